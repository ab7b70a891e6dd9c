import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDecipheriv, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { deriveKey, keyLabels } from '../crypto/derive-key.ts'
import { generateSigningKey, loadSigningKeyRing, unwrapPrivateKey, wrapPrivateKey } from './signing-keys.ts'
import type { StoredSigningKey } from './signing-keys.ts'

const hour = 3_600_000

test('a new key: kid is the RFC 7638 thumbprint, the public JWK has no d, the private key is only wrapped', async () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const master = randomBytes(32)
    const key = await generateSigningKey(master, alg, 1_000)
    assert.equal(key.kid, await calculateJwkThumbprint(key.publicJwk, 'sha256'))
    assert.equal(key.publicJwk.d, undefined)
    assert.deepEqual({ alg: key.publicJwk.alg, use: key.publicJwk.use, kid: key.publicJwk.kid }, { alg, use: 'sig', kid: key.kid })
    assert.equal(key.publicJwk.crv, alg === 'EdDSA' ? 'Ed25519' : 'P-256')
    assert.deepEqual([key.createdAt, key.rotatedAt, key.retireAfter], [1_000, null, null])
    const d = unwrapPrivateKey(master, key.kid, key.wrappedPrivateKey).d
    assert.equal(typeof d, 'string')
    assert.ok(!JSON.stringify(key).includes(d as string))
  }
})

test('wrap/unwrap round trip; tampering, another kid or another master key fail without leaking the key', async () => {
  const master = randomBytes(32)
  const key = await generateSigningKey(master)
  const jwk = unwrapPrivateKey(master, key.kid, key.wrappedPrivateKey)
  const wrapped = wrapPrivateKey(master, key.kid, jwk)
  assert.notEqual(wrapped, key.wrappedPrivateKey, 'a fresh nonce each time')
  assert.deepEqual(unwrapPrivateKey(master, key.kid, wrapped), jwk)
  const [version, nonce, ciphertext, tag] = wrapped.split('.') as [string, string, string, string]
  const flipped = Buffer.from(ciphertext, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 1
  const attempts = [
    () => unwrapPrivateKey(master, key.kid, [version, nonce, flipped.toString('base64url'), tag].join('.')),
    () => unwrapPrivateKey(master, key.kid + 'x', wrapped),
    () => unwrapPrivateKey(randomBytes(32), key.kid, wrapped),
    () => unwrapPrivateKey(master, key.kid, [version, nonce, ciphertext, tag.replace(/^./, (c) => c === 'A' ? 'B' : 'A')].join('.')),
    () => unwrapPrivateKey(master, key.kid, 'v2.' + wrapped.slice(3))
  ]
  for (const attempt of attempts) {
    assert.throws(attempt, (err: Error) => !err.message.includes(jwk.d as string) && err.message.includes('signing key'))
  }
  assert.throws(() => wrapPrivateKey(master, key.kid, { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }), /not a private JWK/)
})

test('the wrap key is HKDF(master, "portcullis/signing-key-wrap/v1"): keys already stored keep opening', async () => {
  assert.equal(keyLabels.signingKeyWrap, 'portcullis/signing-key-wrap/v1')
  assert.equal(new Set(Object.values(keyLabels)).size, Object.keys(keyLabels).length)
  const master = randomBytes(32)
  const key = await generateSigningKey(master)
  const [, nonce, ciphertext, tag] = key.wrappedPrivateKey.split('.') as [string, string, string, string]
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(master, 'portcullis/signing-key-wrap/v1'), Buffer.from(nonce, 'base64url'))
  decipher.setAAD(Buffer.from(key.kid, 'utf8'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  const opened = JSON.parse(Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8'))
  assert.equal(opened.d, unwrapPrivateKey(master, key.kid, key.wrappedPrivateKey).d)
})

test('jwks() publishes public members only, current key first', async () => {
  const master = randomBytes(32)
  const ring = await loadSigningKeyRing({ masterKey: master, keys: [await generateSigningKey(master, 'ES256')] })
  const { keys } = ring.jwks()
  assert.equal(keys.length, 1)
  assert.deepEqual(Object.keys(keys[0] ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
  assert.equal(keys[0]?.kid, ring.current().kid)
  assert.doesNotMatch(JSON.stringify(ring.jwks()), /"d"/)
  assert.equal(ring.current().privateKey.extractable, false)
})

test('rotation: the old key stays published and verifying until rotated_at + max token lifetime', async () => {
  const master = randomBytes(32)
  const first = await generateSigningKey(master, 'EdDSA', 0)
  const ring = await loadSigningKeyRing({ masterKey: master, keys: [first], maxTokenLifetimeSeconds: 3600 })
  await ring.rotate('EdDSA', 10 * hour)
  const second = ring.current().kid
  assert.notEqual(second, first.kid)
  const stored = ring.toStored(10 * hour)
  assert.deepEqual(stored.map((k) => [k.kid, k.rotatedAt, k.retireAfter]), [[second, null, null], [first.kid, 10 * hour, 11 * hour]])
  assert.deepEqual(ring.jwks(11 * hour - 1).keys.map((k) => k.kid), [second, first.kid])
  assert.notEqual(ring.publicKey(first.kid, 11 * hour - 1), null)
  assert.deepEqual(ring.jwks(11 * hour).keys.map((k) => k.kid), [second])
  assert.equal(ring.publicKey(first.kid, 11 * hour), null)
  assert.deepEqual(ring.toStored(11 * hour).map((k) => k.kid), [second])

  // A second rotation keeps the first rotation's retireAfter and retires the middle key later.
  await ring.rotate('ES256', 10 * hour + 1000)
  const third = ring.toStored(10 * hour + 1000)
  assert.equal(third.length, 3)
  assert.equal(third[0]?.alg, 'ES256')
  assert.deepEqual(third.slice(1).map((k) => k.retireAfter), [11 * hour + 1000, 11 * hour])

  // What toStored returns loads back into an equivalent ring.
  const reloaded = await loadSigningKeyRing({ masterKey: master, keys: third })
  assert.equal(reloaded.current().kid, third[0]?.kid)
  assert.deepEqual(reloaded.jwks(10 * hour + 1000), ring.jwks(10 * hour + 1000))
})

test('loading refuses a ring without exactly one current key, an unknown alg, or a swapped public key', async () => {
  const master = randomBytes(32)
  const a = await generateSigningKey(master)
  const b = await generateSigningKey(master)
  await assert.rejects(loadSigningKeyRing({ masterKey: master, keys: [] }), /exactly one current key, found 0/)
  await assert.rejects(loadSigningKeyRing({ masterKey: master, keys: [a, b] }), /exactly one current key, found 2/)
  const swapped: StoredSigningKey = { ...a, publicJwk: b.publicJwk }
  await assert.rejects(loadSigningKeyRing({ masterKey: master, keys: [swapped] }), /does not match its kid/)
  const wrongAlg = { ...a, alg: 'HS256' } as unknown as StoredSigningKey
  await assert.rejects(loadSigningKeyRing({ masterKey: master, keys: [wrongAlg] }))
  await assert.rejects(loadSigningKeyRing({ masterKey: randomBytes(32), keys: [a] }), /does not open/)
  await assert.rejects(loadSigningKeyRing({ masterKey: master, keys: [a], maxTokenLifetimeSeconds: 0 }), /positive/)
})
