import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import {
  defaultScryptParams, generateClientSecret, hashClientSecret, looksLikeClientSecret, storedHashParams,
  verifyClientSecret, verifyClientSecretWithRotation
} from './client-secret.ts'
import { fastScrypt } from './oauth-test-fixture.ts'

test('secrets carry 256 random bits behind a recognisable pcs_ prefix', () => {
  const secret = generateClientSecret()
  assert.match(secret, /^pcs_[A-Za-z0-9_-]{43}$/)
  assert.equal(Buffer.from(secret.slice(4), 'base64url').length, 32)
  assert.ok(looksLikeClientSecret(secret))
  assert.ok(!looksLikeClientSecret('pcl_' + secret.slice(4)))
  assert.equal(new Set(Array.from({ length: 100 }, generateClientSecret)).size, 100)
})

test('the stored hash names its parameters, uses a fresh salt, and never contains the secret', async () => {
  const secret = generateClientSecret()
  const first = await hashClientSecret(secret, fastScrypt)
  const second = await hashClientSecret(secret, fastScrypt)
  assert.match(first, /^scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  assert.notEqual(first, second)
  assert.ok(!first.includes(secret.slice(4)))
  assert.deepEqual(storedHashParams(first), { ln: 4, r: 8, p: 1 })
})

test('the default cost is N = 2^15, r = 8, p = 1', async () => {
  assert.deepEqual(defaultScryptParams, { ln: 15, r: 8, p: 1 })
  const secret = generateClientSecret()
  const stored = await hashClientSecret(secret)
  assert.match(stored, /^scrypt\$ln=15,r=8,p=1\$/)
  assert.equal(await verifyClientSecret(secret, stored), true)
})

test('verify accepts only the exact secret and survives malformed or tampered hashes', async () => {
  const secret = generateClientSecret()
  const stored = await hashClientSecret(secret, fastScrypt)
  assert.equal(await verifyClientSecret(secret, stored), true)
  assert.equal(await verifyClientSecret(secret + 'x', stored), false)
  assert.equal(await verifyClientSecret(generateClientSecret(), stored), false)
  assert.equal(await verifyClientSecret(secret, ''), false)
  assert.equal(await verifyClientSecret(secret, stored.slice(0, -1)), false)
  // A row raised to a huge cost must be refused, not computed for minutes.
  assert.equal(await verifyClientSecret(secret, stored.replace('ln=4', 'ln=40')), false)
  assert.equal(await verifyClientSecret(secret, stored.replace('r=8', 'r=99')), false)
  assert.equal(await verifyClientSecret(secret, stored.replace('ln=4', 'ln=5')), false)
  await assert.rejects(hashClientSecret(secret, { ln: 0, r: 8, p: 1 }), /out of range/)
})

test('secrets with any characters hash and verify (NFC-normalised)', async () => {
  const secret = 'p@ss:w+rd%2F/ü ☃'
  const stored = await hashClientSecret(secret, fastScrypt)
  assert.equal(await verifyClientSecret(secret, stored), true)
  assert.equal(await verifyClientSecret(secret.normalize('NFD'), stored), true)
  assert.equal(await verifyClientSecret('p@ss:w rd%2F/ü ☃', stored), false)
})

test('rotation: the previous secret works until its grace expiry, the current one always', async () => {
  const oldSecret = generateClientSecret()
  const newSecret = generateClientSecret()
  const hashes = {
    secretHash: await hashClientSecret(newSecret, fastScrypt),
    previousSecretHash: await hashClientSecret(oldSecret, fastScrypt),
    previousExpiresAt: 10_000
  }
  assert.equal(await verifyClientSecretWithRotation(newSecret, hashes, 9_999), 'current')
  assert.equal(await verifyClientSecretWithRotation(oldSecret, hashes, 9_999), 'previous')
  assert.equal(await verifyClientSecretWithRotation(oldSecret, hashes, 10_000), null)
  assert.equal(await verifyClientSecretWithRotation(newSecret, hashes, 10_000), 'current')
  assert.equal(await verifyClientSecretWithRotation(generateClientSecret(), hashes, 0), null)
  assert.equal(await verifyClientSecretWithRotation(oldSecret, { ...hashes, previousExpiresAt: null }, 0), null)
  assert.equal(await verifyClientSecretWithRotation(newSecret, { secretHash: hashes.secretHash }, 0), 'current')
})

test('comparison is constant-time (timingSafeEqual), never ===', async () => {
  const source = await readFile(new URL('./client-secret.ts', import.meta.url), 'utf8')
  assert.match(source, /timingSafeEqual\(presented, parsed\.hash\)/)
  assert.doesNotMatch(source, /hash\w*\s*===|===\s*\w*hash/i)
})
