import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import { issueAccessToken, verifyAccessToken } from './access-token.ts'
import { audience, issuer } from './oauth-test-fixture.ts'
import { openSigningKeyManager } from './signing-key-manager.ts'
import type { SigningKeyManager } from './signing-key-manager.ts'
import { generateSigningKey, unwrapPrivateKey } from './signing-keys.ts'
import type { SigningAlgorithm } from './signing-keys.ts'
import { tempSqliteStore } from './sqlite-store-fixture.ts'
import type { Store } from '../store/store.ts'

const hour = 3_600_000
const input = { issuer, audience, subject: 'client_a', clientId: 'client_a', scope: ['chat'], tenant: null }

function opener (store: Store, masterKey: Buffer, clock: { now: number }, algorithm: SigningAlgorithm = 'EdDSA') {
  return async (): Promise<SigningKeyManager> => await openSigningKeyManager({
    store: store.signingKeys, masterKey, algorithm, maxTokenLifetimeSeconds: 3600, now: () => clock.now
  })
}

async function sign (manager: SigningKeyManager, now: number): Promise<string> {
  return (await issueAccessToken(manager.ring, { ...input, now })).token
}

async function verifies (manager: SigningKeyManager, token: string, now: number): Promise<boolean> {
  return await verifyAccessToken(manager.ring, token, { issuer, audience, now }) !== null
}

test('a first start generates and persists one key; a restart keeps the same current key', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const clock = { now: 10 * hour }
  const first = await opener(store, masterKey, clock, 'ES256')()
  const kid = first.ring.current().kid
  assert.equal(first.ring.current().alg, 'ES256')
  const rows = await store.signingKeys.listPublished(clock.now)
  assert.deepEqual(rows.map((r) => [r.kid, r.retiredAt]), [[kid, null]])
  assert.equal(rows[0]?.publicJwk.d, undefined)
  const token = await sign(first, clock.now)

  const restarted = await opener(await reopen(), masterKey, clock)()
  assert.equal(restarted.ring.current().kid, kid, 'the configured algorithm only applies to a new key')
  assert.equal(await verifies(restarted, token, clock.now), true)
  assert.equal((await store.signingKeys.listPublished(clock.now)).length, 1)
})

test('rotation: old tokens keep verifying until retire_after, new tokens carry the new kid, the JWKS follows', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const clock = { now: 10 * hour }
  const manager = await opener(store, masterKey, clock)()
  // The ring handed out once (to the token endpoint, the verifiers) follows the rotation.
  const ring = manager.ring
  const oldKid = ring.current().kid
  const oldToken = await sign(manager, clock.now)

  clock.now += 60_000
  const rotatedAt = clock.now
  const rotated = await manager.rotate('ES256')
  assert.notEqual(rotated.kid, oldKid)
  assert.deepEqual([rotated.alg, rotated.status, rotated.retiredAt], ['ES256', 'current', null])
  assert.equal(ring.current().kid, rotated.kid)
  const newToken = await sign(manager, clock.now)
  assert.equal(decodeProtectedHeader(newToken).kid, rotated.kid)
  assert.equal(await verifies(manager, oldToken, clock.now), true)
  assert.deepEqual(ring.jwks().keys.map((k) => k.kid), [rotated.kid, oldKid])
  assert.deepEqual((await manager.list()).map((k) => [k.kid, k.status, k.retiredAt, k.retireAfter]),
    [[rotated.kid, 'current', null, null], [oldKid, 'retiring', rotatedAt, rotatedAt + hour]])

  // A restart in between keeps both keys and the new one current.
  const restarted = await opener(await reopen(), masterKey, clock)()
  assert.equal(restarted.ring.current().kid, rotated.kid)
  assert.equal(await verifies(restarted, oldToken, clock.now), true)

  clock.now = rotatedAt + hour - 1
  assert.deepEqual(ring.jwks().keys.map((k) => k.kid), [rotated.kid, oldKid])
  clock.now = rotatedAt + hour
  assert.deepEqual(ring.jwks().keys.map((k) => k.kid), [rotated.kid])
  assert.equal(ring.publicKey(oldKid), null)
  assert.deepEqual((await manager.list()).map((k) => k.kid), [rotated.kid])
  assert.equal(await verifies(manager, newToken, clock.now - 1), true)
})

test('another instance sees a rotation after reload(); the ring\'s own rotate() is persisted too', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const clock = { now: 10 * hour }
  const a = await opener(store, masterKey, clock)()
  const b = await opener(await reopen(), masterKey, clock)()
  assert.equal(b.ring.current().kid, a.ring.current().kid)
  await a.ring.rotate()
  const fresh = await sign(a, clock.now)
  assert.equal(await verifies(b, fresh, clock.now), false, 'b has not seen the new key yet')
  await b.reload()
  assert.equal(b.ring.current().kid, a.ring.current().kid)
  assert.equal(await verifies(b, fresh, clock.now), true)
})

test('racing rotations and racing first starts settle on exactly one current key, the same everywhere', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const clock = { now: 10 * hour }
  const [a, b] = await Promise.all([opener(store, masterKey, clock)(), opener(await reopen(), masterKey, clock)()])
  const current = async (): Promise<string[]> => (await store.signingKeys.listPublished(clock.now)).filter((k) => k.retiredAt === null).map((k) => k.kid)
  assert.equal((await current()).length, 1)
  await Promise.all([a?.reload(), b?.reload()])
  assert.equal(a?.ring.current().kid, b?.ring.current().kid)

  clock.now += 1000
  await Promise.all([a?.rotate(), b?.rotate(), a?.rotate()])
  await Promise.all([a?.reload(), b?.reload()])
  assert.deepEqual(await current(), [a?.ring.current().kid])
  assert.equal(a?.ring.current().kid, b?.ring.current().kid)

  // A second current row written behind the manager's back (another instance mid-rotation).
  const intruder = await generateSigningKey(masterKey, 'EdDSA', clock.now + 1)
  await store.signingKeys.insert({ ...intruder, retiredAt: intruder.rotatedAt })
  clock.now += 2
  await a?.reload()
  assert.deepEqual(await current(), [intruder.kid], 'the newest current key wins')
  assert.equal(a?.ring.current().kid, intruder.kid)
})

test('a master key that does not open the current key fails the start and writes nothing', async (t) => {
  const { store } = await tempSqliteStore(t)
  const clock = { now: 10 * hour }
  await opener(store, randomBytes(32), clock)()
  await assert.rejects(opener(store, randomBytes(32), clock)(), /does not open/)
  assert.equal((await store.signingKeys.listPublished(clock.now)).length, 1)
  await assert.rejects(openSigningKeyManager({ store: store.signingKeys, masterKey: randomBytes(32), algorithm: 'HS256' as SigningAlgorithm, maxTokenLifetimeSeconds: 60 }), /algorithm/)
  await assert.rejects(openSigningKeyManager({ store: store.signingKeys, masterKey: randomBytes(32), algorithm: 'EdDSA', maxTokenLifetimeSeconds: 0 }), /positive/)
})

test('list() shows public members only: neither the wrapped private key nor d', async (t) => {
  const { store } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const manager = await opener(store, masterKey, { now: Date.now() })()
  await manager.rotate('ES256')
  // A row whose public JWK carries a private member (a bug or a tampered row) still shows none.
  const planted = await generateSigningKey(masterKey, 'EdDSA', Date.now() - 1000)
  await store.signingKeys.insert({ ...planted, publicJwk: { ...planted.publicJwk, d: 'planted-canary' }, retiredAt: Date.now(), retireAfter: Date.now() + hour })
  const rows = await store.signingKeys.listPublished(Date.now())
  const listed = JSON.stringify(await manager.list()) + JSON.stringify(manager.ring.jwks())
  assert.equal(rows.length, 3)
  assert.ok(listed.includes(planted.kid))
  assert.ok(!listed.includes('planted-canary'))
  for (const row of rows) {
    assert.ok(!listed.includes(row.wrappedPrivateKey))
    assert.ok(!listed.includes(String(unwrapPrivateKey(masterKey, row.kid, row.wrappedPrivateKey).d)))
  }
  assert.doesNotMatch(listed, /"d"|wrapped/i)
})
