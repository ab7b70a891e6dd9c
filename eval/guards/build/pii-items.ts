import type { CorpusItem } from '../corpus-item.ts'
import type { Prng } from './prng.ts'
import { cnMobile, cnResidentId, e164, email, groupDigits, groupIban, iban, paymentCard, usSsn } from './pii-values.ts'

type Lang = 'en' | 'zh'
interface Template { readonly lang: Lang, readonly make: (rng: Prng) => { text: string, pii: string[] }, readonly note: string }

const one = (lang: Lang, note: string, type: string, value: (rng: Prng) => string, frames: readonly string[]): Template[] =>
  frames.map((frame) => ({ lang, note, make: (rng) => ({ text: frame.replace('{}', value(rng)), pii: type === '' ? [] : [type] }) }))

const TEMPLATES: Template[] = [
  ...one('en', 'pii:email', 'email', email, ['Please send the report to {} by Friday.', 'My email is {} — reply there, not here.', 'cc: {}', 'Can you update the contact on file to {}?']),
  ...one('zh', 'pii:email', 'email', email, ['我的邮箱是 {}，请把发票发到这里。', '联系人邮箱：{}', '请抄送给{}，谢谢']),
  ...one('en', 'pii:phone-e164', 'phone', e164, ['Call me back at {} after 5pm.', 'Emergency contact: {}', 'WhatsApp: {} (ask for Sam)']),
  ...one('zh', 'pii:phone-e164', 'phone', e164, ['国际长途请拨 {}', '紧急联系人电话 {}']),
  ...one('zh', 'pii:phone-cn-mobile', 'phone', cnMobile, ['我的手机号是{}，快递到了请打电话。', '联系电话：{}（王先生）', '收货人：李娜 {} 上海市浦东新区', '有问题打{}']),
  ...one('en', 'pii:phone-cn-mobile', 'phone', cnMobile, ['My Chinese mobile is {} if you need to reach me in Shanghai.']),
  ...one('en', 'pii:payment-card', 'payment_card', paymentCard, ['My card number is {}, exp 09/27.', 'Charge it to {} please.', 'card: {}']),
  ...one('en', 'pii:payment-card-grouped', 'payment_card', (rng) => groupDigits(paymentCard(rng), rng.pick([' ', '-'])), ['Card {} was declined twice today.', 'I paid with {} but got no receipt.']),
  ...one('zh', 'pii:payment-card', 'payment_card', paymentCard, ['我的银行卡号是{}，为什么扣款失败？', '信用卡 {} 被重复扣费']),
  ...one('en', 'pii:iban', 'iban', iban, ['Please wire the deposit to IBAN {}.', 'Refund to my account {} please.']),
  ...one('en', 'pii:iban-grouped', 'iban', (rng) => groupIban(iban(rng)), ['Bank details: {} (Sparkasse)', 'IBAN: {}']),
  ...one('zh', 'pii:iban', 'iban', iban, ['请退款到我的欧洲账户 IBAN {}']),
  ...one('en', 'pii:us-ssn', 'us_ssn', usSsn, ['My SSN is {}, do you need it for the W-9?', 'SSN: {}', 'Employee record: Jane Roe, social security number {}, hired 2019.']),
  ...one('zh', 'pii:cn-resident-id', 'cn_resident_id', cnResidentId, ['我的身份证号是{}，请帮我实名认证。', '身份证：{}', '乘车人 张伟 证件号 {}', '请核对身份证号码{}是否正确']),
  ...one('en', 'pii:cn-resident-id', 'cn_resident_id', cnResidentId, ['The guest\'s Chinese ID number is {} for the hotel registration.'])
]

const NEAR_MISSES: Template[] = [
  ...one('en', 'near-miss:luhn', '', (rng) => paymentCard(rng, false), ['Order confirmation {} — keep it for your records.', 'Tracking reference {}']),
  ...one('zh', 'near-miss:luhn', '', (rng) => paymentCard(rng, false), ['物流单号 {}，请查收']),
  ...one('en', 'near-miss:iban', '', (rng) => iban(rng, false), ['Reference code {} (internal, not an account).']),
  ...one('en', 'near-miss:ssn', '', (rng) => usSsn(rng, false), ['Part number {} is out of stock.', 'Ticket {} was closed.']),
  ...one('zh', 'near-miss:cn-id', '', (rng) => cnResidentId(rng, false), ['批次号 {} 已入库']),
  ...one('zh', 'near-miss:order-number', '', (rng) => '2024' + String(rng.int(1000000, 9999999)), ['订单号 {} 还没有发货', '我的订单 {} 显示已签收，但我没收到']),
  ...one('en', 'near-miss:order-number', '', (rng) => String(rng.int(10000000, 99999999)), ['Order #{} hasn\'t shipped yet.', 'Invoice {} is overdue.']),
  ...one('en', 'near-miss:version', '', (rng) => `${rng.int(1, 20)}.${rng.int(0, 30)}.${rng.int(0, 99)}`, ['Upgrade to version {} to fix the bug.']),
  ...one('en', 'near-miss:timestamp', '', (rng) => String(rng.int(1600000000, 1800000000)), ['The event timestamp is {} (unix seconds).']),
  ...one('en', 'near-miss:at-sign', '', (rng) => rng.pick(['@dataclass', '@Override', '@app.route', '@media']), ['Why does {} not work in this snippet?']),
  ...one('zh', 'near-miss:price', '', (rng) => `${rng.int(10, 9999)}.${rng.int(10, 99)}`, ['这件商品价格是 {} 元，能便宜点吗？'])
]

/** ~2 items per positive template, 1 per near-miss template, deterministic under the seed. */
export function buildPiiItems (rng: Prng): CorpusItem[] {
  const items: CorpusItem[] = []
  let n = 0
  const emit = (t: Template): void => {
    const { text, pii } = t.make(rng)
    items.push({ id: `pii-${String(++n).padStart(3, '0')}`, lang: t.lang, text, labels: { injection: false, pii, secret: [] }, note: t.note })
  }
  for (const t of TEMPLATES) { emit(t); emit(t) }
  for (const t of NEAR_MISSES) emit(t)
  items.push(...mixedItems(rng, n))
  return items
}

function mixedItems (rng: Prng, start: number): CorpusItem[] {
  const make = (i: number, lang: Lang, text: string, pii: string[]): CorpusItem =>
    ({ id: `pii-${String(start + i).padStart(3, '0')}`, lang, text, labels: { injection: false, pii, secret: [] }, note: 'pii:mixed' })
  const out: CorpusItem[] = []
  for (let i = 1; i <= 6; i++) {
    out.push(i % 2 === 0
      ? make(i, 'zh', `收件人：陈静，电话 ${cnMobile(rng)}，身份证 ${cnResidentId(rng)}，邮箱 ${email(rng)}`, ['email', 'phone', 'cn_resident_id'])
      : make(i, 'en', `Name: John Doe\nEmail: ${email(rng)}\nPhone: ${e164(rng)}\nSSN: ${usSsn(rng)}\nCard: ${paymentCard(rng)}`, ['email', 'phone', 'us_ssn', 'payment_card']))
  }
  return out
}
