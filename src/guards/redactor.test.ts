import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRedactor, mergeOverlaps, placeholderLabel } from './redactor.ts'
import { detectPii } from './pii-detector.ts'
import { detectSecrets } from './secret-detector.ts'

const text = 'Mail jane@example.org or JANE: jane@example.org, call +1 415 555 2671; key sk_live_4eC39HqLyjWDarjtT1zdp7dc'
const findings = [...detectPii(text), ...detectSecrets(text)]

test('each value becomes a typed placeholder, the same value the same placeholder', () => {
  const redactor = createRedactor()
  const redacted = redactor.redact(text, findings)
  assert.equal(redacted, 'Mail [EMAIL_1] or JANE: [EMAIL_1], call [PHONE_1]; key [SECRET_STRIPE_1]')
  assert.equal(redactor.size, 3)
  for (const secret of ['jane@example.org', '555 2671', 'sk_live']) assert.ok(!redacted.includes(secret))
})

test('restore puts the originals back, only for placeholders this redactor issued', () => {
  const redactor = createRedactor()
  const redacted = redactor.redact(text, findings)
  assert.equal(redactor.restore(redacted), text)
  assert.equal(redactor.restore('[EMAIL_2] [email_1] [EMAIL_1'), '[EMAIL_2] [email_1] [EMAIL_1')
  assert.equal(createRedactor().restore(redacted), redacted, 'another request cannot restore these')
  assert.equal(redactor.restore('[[EMAIL_1]]'), '[jane@example.org]')
})

test('the stream restorer handles a placeholder split at every position', () => {
  const redactor = createRedactor()
  const redacted = redactor.redact(text, findings)
  for (let i = 0; i <= redacted.length; i++) {
    for (const j of [i, Math.min(redacted.length, i + 3), Math.min(redacted.length, i + 9)]) {
      const restorer = redactor.createStreamRestorer()
      const out = restorer.push(redacted.slice(0, i)) + restorer.push(redacted.slice(i, j)) + restorer.push(redacted.slice(j)) + restorer.end()
      assert.equal(out, text, `split at ${i}/${j}`)
    }
  }
})

test('the stream restorer does not hold back text that cannot be a placeholder', () => {
  const redactor = createRedactor()
  redactor.redact('a@b.io', [{ type: 'email', detector: 'pii', start: 0, end: 6 }])
  const restorer = redactor.createStreamRestorer()
  assert.equal(restorer.push('array[i] = x'), 'array[i] = x')
  assert.equal(restorer.push(' see [EMA'), ' see ')
  assert.equal(restorer.push('IL_1] ok'), 'a@b.io ok')
  assert.equal(restorer.end(), '')
})

test('overlapping findings merge into one placeholder', () => {
  const merged = mergeOverlaps([
    { type: 'email', detector: 'pii', start: 5, end: 20 },
    { type: 'secret.jwt', detector: 'secret', start: 0, end: 10 },
    { type: 'phone', detector: 'pii', start: 30, end: 40 }
  ])
  assert.deepEqual(merged.map(f => [f.type, f.start, f.end]), [['secret.jwt', 0, 20], ['phone', 30, 40]])
  assert.equal(placeholderLabel('secret.aws_access_key'), 'SECRET_AWS_ACCESS_KEY')
})

test('restore is linear on adversarial brackets', () => {
  const redactor = createRedactor()
  redactor.redact('a@b.io', [{ type: 'email', detector: 'pii', start: 0, end: 6 }])
  for (const input of ['['.repeat(1e6), '[EMAIL_'.repeat(2e5), '[A]'.repeat(3e5)]) {
    const start = performance.now()
    redactor.restore(input)
    assert.ok(performance.now() - start < 1000)
  }
})
