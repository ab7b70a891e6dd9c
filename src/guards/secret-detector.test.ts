import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateApiKey } from '../auth/api-key-format.ts'
import { createSecretDetector, detectSecrets, pemMaxLength } from './secret-detector.ts'
import { hardNegatives, secretExamples } from './guard-examples-fixture.ts'

const found = (text: string): Array<[string, string]> => detectSecrets(text).map(f => [f.type, text.slice(f.start, f.end)])

for (const example of secretExamples) {
  test(`finds ${example.values.map(v => v[0]).join(', ')} in ${JSON.stringify(example.text.slice(0, 40))}`, () => {
    assert.deepEqual(found(example.text), example.values)
  })
}

test('hard negatives find no secret', () => {
  for (const text of hardNegatives) assert.deepEqual(found(text), [], text)
})

test('a Portcullis key is recognised by its checksum, and a one-character typo is not', () => {
  const { secret } = generateApiKey()
  assert.deepEqual(found(`k ${secret} `), [['secret.portcullis', secret]])
  const typo = secret.slice(0, 30) + (secret[30] === 'a' ? 'b' : 'a') + secret.slice(31)
  assert.deepEqual(found(`k ${typo} `), [])
})

test('a JWT needs a JSON header with alg', () => {
  const fake = 'eyJub3Rqc29u.eyJzdWIiOiIxIn0.abc'
  assert.deepEqual(found(`t ${fake} `).filter(([type]) => type === 'secret.jwt'), [])
})

test('an unterminated PEM private key is redacted to the end of the text, at most pemMaxLength', () => {
  const text = 'key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC'
  assert.deepEqual(found(text), [['secret.private_key', text.slice(4)]])
  const long = '-----BEGIN PRIVATE KEY-----\n' + 'A'.repeat(pemMaxLength * 2)
  const [finding] = detectSecrets(long)
  assert.equal(finding?.end, pemMaxLength)
})

test('a base64-encoded key is found and covers the encoded span', () => {
  const encoded = Buffer.from('export STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc').toString('base64')
  assert.deepEqual(found(`cfg ${encoded} end`), [['secret.stripe', encoded]])
})

test('the detector object has the secret kind and a token length for streams', () => {
  const detector = createSecretDetector()
  assert.equal(detector.name, 'secret')
  assert.ok((detector.maxTokenLength ?? 0) >= 1024)
  assert.equal(detector.detect('AKIAIOSFODNN7EXAMPLE')[0]?.detector, 'secret')
})
