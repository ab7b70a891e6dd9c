import { test } from 'node:test'
import assert from 'node:assert/strict'
import { detectPii, createPiiDetector } from './pii-detector.ts'
import { hardNegatives, piiExamples } from './guard-examples-fixture.ts'
import { cnResidentIdValid, ibanValid, luhnValid, paymentCardValid } from './pii-validators.ts'

const found = (text: string): Array<[string, string]> => detectPii(text).map(f => [f.type, text.slice(f.start, f.end)])

for (const example of piiExamples) {
  test(`finds ${example.values.map(v => v[0]).join(', ')} in ${JSON.stringify(example.text.slice(0, 40))}`, () => {
    assert.deepEqual(found(example.text), example.values)
  })
}

test('hard negatives (order and tracking numbers, versions, UUIDs, non-Luhn numbers, timestamps) find nothing', () => {
  for (const text of hardNegatives) assert.deepEqual(found(text), [], text)
})

test('validators reject near misses', () => {
  assert.ok(luhnValid('4111111111111111'))
  assert.ok(!luhnValid('4111111111111112'))
  assert.ok(!paymentCardValid('9111111111111119'), 'no issuer starts with 9')
  assert.ok(ibanValid('DE89370400440532013000'))
  assert.ok(!ibanValid('DE89370400440532013001'))
  assert.ok(!ibanValid('DE8937040044053201300'), 'wrong length for DE')
  assert.ok(cnResidentIdValid('11010519491231002X'))
  assert.ok(!cnResidentIdValid('110105194912310021'), 'bad check digit')
  assert.ok(!cnResidentIdValid('110105194913310025'), 'month 13')
})

test('a date is a date of birth only next to a birth keyword', () => {
  assert.deepEqual(found('The invoice is dated 03/07/1985.'), [])
  assert.deepEqual(found('DOB 1985-07-03'), [['date_of_birth', '1985-07-03']])
  assert.deepEqual(found('born 31/02/1985'), [], 'no 31 February')
})

test('types can be restricted', () => {
  const text = 'mail a@b.io from 203.0.113.7'
  assert.deepEqual(detectPii(text, { types: ['email'] }).map(f => f.type), ['email'])
})

test('encoded spans can be skipped', () => {
  const text = 'x ' + Buffer.from('mail jane@example.org').toString('base64')
  assert.equal(detectPii(text).length, 1)
  assert.equal(detectPii(text, { decodeEncoded: false }).length, 0)
})

test('the detector object reports findings with its kind and a stream window', () => {
  const detector = createPiiDetector()
  assert.equal(detector.name, 'pii')
  assert.ok(detector.window >= 64)
  assert.deepEqual(detector.detect('a@b.io'), [{ type: 'email', detector: 'pii', start: 0, end: 6 }])
})
