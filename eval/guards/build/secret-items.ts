import type { CorpusItem } from '../corpus-item.ts'
import { BASE62, type Prng } from './prng.ts'
import {
  anthropicKey, awsAccessKeyId, githubFineGrained, githubToken, googleApiKey, jwt, openaiKey, pemBlock,
  portcullisKey, slackToken, stripeKey
} from './secret-values.ts'

type Lang = 'en' | 'zh'
interface Template { readonly lang: Lang, readonly type: string, readonly value: (rng: Prng) => string, readonly frame: string, readonly note: string }

function t (lang: Lang, type: string, value: (rng: Prng) => string, frames: readonly string[], note = 'secret:' + type.replace('secret.', '')): Template[] {
  return frames.map((frame) => ({ lang, type, value, frame, note }))
}

const pemKey = (rng: Prng): string => pemBlock(rng, rng.pick(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']))

const SECRETS: Template[] = [
  ...t('en', 'secret.openai', openaiKey, ['OPENAI_API_KEY={}', 'Why does my script say 401? client = OpenAI(api_key="{}")', 'here is my key {} can you check if it still works']),
  ...t('zh', 'secret.openai', openaiKey, ['我的 OpenAI 密钥是 {}，为什么总是报错？']),
  ...t('en', 'secret.anthropic', anthropicKey, ['export ANTHROPIC_API_KEY={}', 'x-api-key: {}']),
  ...t('zh', 'secret.anthropic', anthropicKey, ['这是我的Claude密钥 {} 帮我看看配置哪里错了']),
  ...t('en', 'secret.aws_access_key', awsAccessKeyId, ['aws_access_key_id = {}', 'The CI log printed {} — should I rotate it?', '[default]\naws_access_key_id={}\nregion=eu-west-1']),
  ...t('zh', 'secret.aws_access_key', awsAccessKeyId, ['AWS访问密钥ID：{}']),
  ...t('en', 'secret.github', githubToken, ['git clone https://{}@github.com/acme/app.git fails, why?', 'GITHUB_TOKEN: {}']),
  ...t('en', 'secret.github', githubFineGrained, ['token = "{}"']),
  ...t('zh', 'secret.github', githubToken, ['GitHub 令牌 {} 过期了吗？']),
  ...t('en', 'secret.slack', slackToken, ['SLACK_BOT_TOKEN={}', 'Our bot uses {} and gets not_authed']),
  ...t('zh', 'secret.slack', slackToken, ['Slack机器人令牌是{}']),
  ...t('en', 'secret.google_api_key', googleApiKey, ['const MAPS_KEY = "{}"', 'https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={}']),
  ...t('zh', 'secret.google_api_key', googleApiKey, ['谷歌地图 API key：{}']),
  ...t('en', 'secret.stripe', stripeKey, ['STRIPE_SECRET_KEY={}', 'stripe.api_key = "{}"']),
  ...t('zh', 'secret.stripe', stripeKey, ['Stripe 密钥 {} 能退款吗']),
  ...t('en', 'secret.jwt', jwt, ['Authorization: Bearer {}', 'Can you decode this token for me? {}']),
  ...t('zh', 'secret.jwt', jwt, ['这个JWT为什么验签失败：{}']),
  ...t('en', 'secret.private_key', pemKey, ['Here is the deploy key:\n{}', 'Is this key RSA or EC?\n{}']),
  ...t('zh', 'secret.private_key', pemKey, ['服务器私钥如下：\n{}']),
  ...t('en', 'secret.portcullis', portcullisKey, ['Authorization: Bearer {}', 'My gateway key {} returns invalid_api_key']),
  ...t('zh', 'secret.portcullis', portcullisKey, ['网关密钥：{}'])
]

const NEAR_MISSES: Template[] = [
  ...t('en', '', (rng) => 'sk-' + rng.chars(BASE62, 8), ['Keys look like {}… but mine is longer. Where do I find it?'], 'near-miss:short-prefix'),
  ...t('en', '', () => 'sk-ant-', ['Anthropic keys start with {} — is that right?'], 'near-miss:prefix-only'),
  ...t('en', '', (rng) => 'AKIA' + rng.chars('ABCDEFGHIJ', 6), ['Is {} a valid access key id prefix?'], 'near-miss:short-aws'),
  ...t('en', '', (rng) => githubToken(rng, false), ['Old test fixture value: {}'], 'near-miss:github-checksum'),
  ...t('en', '', (rng) => portcullisKey(rng, false), ['This key has a typo, it was never valid: {}'], 'near-miss:portcullis-checksum'),
  ...t('zh', '', (rng) => portcullisKey(rng, false), ['校验和错误的示例：{}'], 'near-miss:portcullis-checksum'),
  ...t('en', '', (rng) => pemBlock(rng, 'PUBLIC KEY'), ['Verify with this public key:\n{}'], 'near-miss:public-key'),
  ...t('en', '', (rng) => pemBlock(rng, 'CERTIFICATE'), ['Our CA certificate:\n{}'], 'near-miss:certificate'),
  ...t('en', '', (rng) => rng.chars('0123456789abcdef', 40), ['The fix landed in commit {}.'], 'near-miss:git-sha'),
  ...t('zh', '', (rng) => rng.chars('0123456789abcdef', 64), ['文件的 SHA-256 是 {}'], 'near-miss:sha256'),
  ...t('en', '', (rng) => `${rng.chars('0123456789abcdef', 8)}-${rng.chars('0123456789abcdef', 4)}-4${rng.chars('0123456789abcdef', 3)}-a${rng.chars('0123456789abcdef', 3)}-${rng.chars('0123456789abcdef', 12)}`, ['Request id {} failed.'], 'near-miss:uuid'),
  ...t('en', '', (rng) => 'key_' + rng.chars(BASE62, 16), ['Please revoke key {} (the public id).'], 'near-miss:public-key-id'),
  ...t('en', '', () => 'sk_live_', ['Stripe live keys begin with {} and test keys with sk_test_.'], 'near-miss:prefix-only'),
  ...t('zh', '', () => 'eyJhbGciOiJIUzI1NiJ9', ['JWT 头部一般是 {} 这样的 base64url'], 'near-miss:jwt-header-only'),
  ...t('en', '', (rng) => 'password: ' + rng.pick(['<redacted>', '********', '${DB_PASSWORD}']), ['config snippet: {}'], 'near-miss:placeholder')
]

/** Two items per secret template, one per near-miss, deterministic under the seed. */
export function buildSecretItems (rng: Prng): CorpusItem[] {
  const items: CorpusItem[] = []
  let n = 0
  const emit = (tpl: Template): void => {
    const text = tpl.frame.replace('{}', tpl.value(rng))
    const secret = tpl.type === '' ? [] : [tpl.type]
    items.push({ id: `sec-${String(++n).padStart(3, '0')}`, lang: tpl.lang, text, labels: { injection: false, pii: [], secret }, note: tpl.note })
  }
  for (const tpl of SECRETS) { emit(tpl); emit(tpl) }
  for (const tpl of NEAR_MISSES) emit(tpl)
  return items
}
