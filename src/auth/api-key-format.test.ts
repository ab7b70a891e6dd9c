import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateApiKey, isPublicKeyId, keyForId, parseApiKey } from './api-key-format.ts'

test('a generated key has the documented shape and parses back to its public id', () => {
  const key = generateApiKey()
  assert.match(key.secret, /^pcl_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}$/)
  assert.equal(key.secret.length, 70)
  assert.match(key.id, /^key_[0-9A-Za-z]{16}$/)
  assert.ok(isPublicKeyId(key.id))
  assert.equal(key.secret.slice(4, 20), key.id.slice(4))
  assert.equal(key.lastFour, key.secret.slice(-4))
  assert.deepEqual(parseApiKey(key.secret), { id: key.id })
})

test('keys are unique and a new secret for the same id differs', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) seen.add(generateApiKey().secret)
  assert.equal(seen.size, 200)
  const key = generateApiKey()
  const rotated = keyForId(key.id)
  assert.equal(rotated.id, key.id)
  assert.notEqual(rotated.secret, key.secret)
  assert.deepEqual(parseApiKey(rotated.secret), { id: key.id })
})

test('every single-character typo is caught by the checksum', () => {
  const { secret } = generateApiKey()
  for (let i = 4; i < secret.length; i++) {
    if (i === 20) continue
    const c = secret[i] === 'a' ? 'b' : 'a'
    const typo = secret.slice(0, i) + c + secret.slice(i + 1)
    assert.equal(parseApiKey(typo), null, `position ${i}`)
  }
})

test('malformed strings are rejected', () => {
  const { secret } = generateApiKey()
  for (const bad of ['', 'pcl_', secret.slice(0, -1), secret + 'x', secret.replace('pcl_', 'pcx_'),
    secret.toUpperCase(), ' ' + secret, secret.replace('_', '-'), 'sk-' + secret.slice(4), 'key_' + secret.slice(4, 20)]) {
    assert.equal(parseApiKey(bad), null, bad)
  }
  assert.throws(() => keyForId('nope'), /public key id/)
})
