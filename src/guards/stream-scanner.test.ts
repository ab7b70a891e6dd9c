import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Detector, Finding } from './finding.ts'
import { createPiiDetector } from './pii-detector.ts'
import { createRedactor } from './redactor.ts'
import { createSecretDetector } from './secret-detector.ts'
import { createStreamScanner, redactChunk } from './stream-scanner.ts'
import { piiExamples, secretExamples } from './guard-examples-fixture.ts'

const detectors: Detector[] = [createPiiDetector(), createSecretDetector()]

function whole (text: string): { findings: Finding[], redacted: string } {
  const findings = detectors.flatMap(d => d.detect(text)).sort((a, b) => a.start - b.start || b.end - a.end)
  return { findings, redacted: createRedactor().redact(text, findings) }
}

function streamed (parts: readonly string[]): { findings: Finding[], redacted: string } {
  const scanner = createStreamScanner(detectors)
  const redactor = createRedactor()
  const findings: Finding[] = []
  let redacted = ''
  for (const chunk of [...parts.map(p => scanner.push(p)), scanner.end()]) {
    findings.push(...chunk.findings)
    redacted += redactChunk(chunk, redactor)
  }
  return { findings, redacted }
}

const key = (f: Finding): string => `${f.type}@${f.start}-${f.end}`

for (const example of [...piiExamples, ...secretExamples]) {
  test(`split anywhere: ${JSON.stringify(example.text.slice(0, 36))}`, () => {
    // Padding puts the value past the scanner's window, so chunks really are emitted early.
    const text = 'Sure, here is the text you asked for, word for word, as written by the user: ' + example.text + ' That is all.'
    const expected = whole(text)
    assert.equal(expected.findings.length, example.values.length)
    for (let i = 0; i <= text.length; i++) {
      const two = streamed([text.slice(0, i), text.slice(i)])
      assert.deepEqual(two.findings.map(key), expected.findings.map(key), `split at ${i}`)
      assert.equal(two.redacted, expected.redacted, `split at ${i}`)
      // Three chunks: every first cut, second cut 1, 3, 8 and 20 characters later.
      for (const j of [i + 1, i + 3, i + 8, i + 20].filter(j => j <= text.length)) {
        const three = streamed([text.slice(0, i), text.slice(i, j), text.slice(j)])
        assert.equal(three.redacted, expected.redacted, `split at ${i}, ${j}`)
      }
    }
  })
}

test('token by token, no fragment of a secret is emitted before it is redacted', () => {
  const secret = 'sk-proj-abc123DEF456ghi789JKL012mno345PQR678stu901VWX'
  const text = 'Here you go: ' + secret + ' and mail jane@example.org. ' + 'Lorem ipsum dolor sit amet. '.repeat(10)
  const scanner = createStreamScanner(detectors)
  const redactor = createRedactor()
  let out = ''
  for (let i = 0; i < text.length; i += 3) {
    out += redactChunk(scanner.push(text.slice(i, i + 3)), redactor)
    assert.ok(!out.includes('sk-proj-abc'), 'no prefix of the key leaks')
  }
  out += redactChunk(scanner.end(), redactor)
  assert.equal(out, whole(text).redacted)
  assert.ok(out.startsWith('Here you go: [SECRET_OPENAI_1] and mail [EMAIL_1].'))
})

test('the held-back tail is bounded by the window in prose and passes text on early', () => {
  const scanner = createStreamScanner(detectors)
  const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(20)
  const chunk = scanner.push(prose)
  assert.ok(prose.length - chunk.text.length <= 80, `held ${prose.length - chunk.text.length}`)
  assert.ok(chunk.text.length > 0)
})

test('a PEM key split over many chunks is held back whole, and the hold-back has a hard cap', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\n' + 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'.repeat(20) + '-----END PRIVATE KEY-----'
  const scanner = createStreamScanner(detectors)
  const redactor = createRedactor()
  let out = ''
  for (const line of ('before\n' + pem + '\nafter ' + 'x '.repeat(100)).split(/(?<=\n)/)) out += redactChunk(scanner.push(line), redactor)
  out += redactChunk(scanner.end(), redactor)
  assert.ok(!out.includes('MIIEvQ'))
  assert.ok(out.startsWith('before\n[SECRET_PRIVATE_KEY_1]\nafter'))
  const capped = createStreamScanner(detectors, { maxHoldBack: 1000 })
  const first = capped.push('-----BEGIN PRIVATE KEY-----\n' + 'AAAA\n'.repeat(400))
  assert.ok(2028 - first.text.length <= 1000)
  assert.equal(first.findings[0]?.type, 'secret.private_key', 'what is forced out is redacted, not leaked')
})
