import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createApiKeyHasher } from './api-key-hasher.ts'
import { generateApiKey } from './api-key-format.ts'

test('the hash is a peppered HMAC: stable per master key, different across master keys', () => {
  const { secret } = generateApiKey()
  const master = randomBytes(32)
  const hasher = createApiKeyHasher(master)
  const hash = hasher.hash(secret)
  assert.match(hash, /^[0-9a-f]{64}$/)
  assert.equal(createApiKeyHasher(master).hash(secret), hash)
  assert.notEqual(createApiKeyHasher(randomBytes(32)).hash(secret), hash)
  assert.ok(!hash.includes(secret))
})

test('matches accepts only the exact key and survives malformed stored hashes', () => {
  const hasher = createApiKeyHasher(randomBytes(32))
  const { secret } = generateApiKey()
  const hash = hasher.hash(secret)
  assert.equal(hasher.matches(secret, hash), true)
  assert.equal(hasher.matches(secret + 'x', hash), false)
  assert.equal(hasher.matches(generateApiKey().secret, hash), false)
  assert.equal(hasher.matches(secret, ''), false)
  assert.equal(hasher.matches(secret, hash.slice(0, 62)), false)
  assert.equal(hasher.matches(secret, 'zz'), false)
})

test('comparison is constant-time (timingSafeEqual), never ===', async () => {
  const source = await readFile(new URL('./api-key-hasher.ts', import.meta.url), 'utf8')
  assert.match(source, /timingSafeEqual\(stored, presented\)/)
  assert.doesNotMatch(source, /hash\w*\s*===|===\s*\w*hash/i)
})
