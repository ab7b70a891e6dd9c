import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { WithStore } from './store-contract.ts'
import type { ClientRecord, RevokedToken, SigningKeyRecord, Store } from './store.ts'

let counter = 0

/** A complete client with a unique id; override any field. */
export function sampleClient (overrides: Partial<ClientRecord> = {}): ClientRecord {
  counter++
  return {
    id: 'cli_' + randomBytes(8).toString('hex'),
    name: `client ${counter}`,
    tenant: null,
    scopes: ['chat'],
    roles: [],
    models: null,
    allowedIps: null,
    tokensRevokedBefore: null,
    secretHash: 'scrypt$' + randomBytes(16).toString('hex'),
    previousSecretHash: null,
    previousExpiresAt: null,
    metadata: null,
    createdAt: 1_700_000_000_000 + counter,
    createdBy: null,
    disabledAt: null,
    rotatedAt: null,
    ...overrides
  }
}

function sampleSigningKey (overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  counter++
  return {
    kid: 'kid-' + randomBytes(6).toString('hex'),
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: randomBytes(32).toString('base64url') },
    wrappedPrivateKey: randomBytes(48).toString('base64'),
    createdAt: 1_700_000_000_000 + counter,
    retiredAt: null,
    retireAfter: null,
    ...overrides
  }
}

/** OAuth clients and signing keys: part of the one contract every Store adapter passes. */
export function oauthContractTests (withStore: WithStore): void {
  test('clients: insert/get round-trips every field; duplicates rejected; unknown is null', withStore(async (store) => {
    const client = sampleClient({
      tenant: 'acme', scopes: ['chat', 'embeddings'], roles: ['reader'], models: ['gpt-4o-mini', 'llama-*'],
      allowedIps: ['203.0.113.0/24', '::1'], tokensRevokedBefore: 1_700_000_000_123, metadata: { team: 'billing' }, createdBy: 'key_x'
    })
    await store.clients.insert(client)
    assert.deepEqual(await store.clients.get(client.id), client)
    await assert.rejects(store.clients.insert(client))
    assert.equal(await store.clients.get('cli_unknown'), null)
  }))

  test('clients: an empty models or allowedIps list is not read back as null (unrestricted)', withStore(async (store) => {
    const empty = sampleClient({ models: [], allowedIps: [] })
    const open = sampleClient({ roles: ['admin', 'ops'] })
    await store.clients.insert(empty)
    await store.clients.insert(open)
    assert.deepEqual(await store.clients.get(empty.id), empty)
    assert.deepEqual((await store.clients.get(empty.id))?.allowedIps, [])
    assert.deepEqual(await store.clients.get(open.id), open)
    assert.deepEqual((await store.clients.list({ limit: 10 })).items, [open, empty])
  }))

  test('clients: revokeTokens moves the cut-off forward, never back, and touches nothing else', withStore(async (store) => {
    const client = sampleClient({ roles: ['reader'], allowedIps: ['10.0.0.0/8'] })
    await store.clients.insert(client)
    assert.deepEqual(await store.clients.revokeTokens(client.id, 5_000), { ...client, tokensRevokedBefore: 5_000 })
    assert.equal((await store.clients.revokeTokens(client.id, 4_000))?.tokensRevokedBefore, 5_000)
    assert.equal((await store.clients.get(client.id))?.tokensRevokedBefore, 5_000)
    assert.equal((await store.clients.revokeTokens(client.id, 7_000))?.tokensRevokedBefore, 7_000)
    const rotated = await store.clients.rotate(client.id, { secretHash: 'scrypt$new', previousExpiresAt: 9_000, rotatedAt: 8_000 })
    assert.equal(rotated?.tokensRevokedBefore, 7_000)
    assert.equal((await store.clients.setDisabled(client.id, 8_500))?.tokensRevokedBefore, 7_000)
    assert.equal(await store.clients.revokeTokens('cli_unknown', 1), null)
  }))

  test('clients: list pages newest first and filters by tenant', withStore(async (store) => {
    const made = [sampleClient({ tenant: 'a' }), sampleClient({ tenant: 'b' }), sampleClient({ tenant: 'a' })]
    for (const c of made) await store.clients.insert(c)
    const first = await store.clients.list({ limit: 2 })
    assert.deepEqual(first.items.map((c) => c.id), [made[2]?.id, made[1]?.id])
    assert.equal(first.hasMore, true)
    const rest = await store.clients.list({ limit: 2, after: first.items[1]?.id ?? null })
    assert.deepEqual(rest.items.map((c) => c.id), [made[0]?.id])
    assert.deepEqual((await store.clients.list({ limit: 10, tenant: 'a' })).items.map((c) => c.id), [made[2]?.id, made[0]?.id])
  }))

  test('clients: disable keeps the first time, enable clears it, rotate swaps hashes, delete removes', withStore(async (store) => {
    const client = sampleClient()
    await store.clients.insert(client)
    assert.equal((await store.clients.setDisabled(client.id, 100))?.disabledAt, 100)
    assert.equal((await store.clients.setDisabled(client.id, 200))?.disabledAt, 100)
    assert.equal((await store.clients.setDisabled(client.id, null))?.disabledAt, null)
    const rotated = await store.clients.rotate(client.id, { secretHash: 'scrypt$new', previousExpiresAt: 500, rotatedAt: 400 })
    assert.equal(rotated?.secretHash, 'scrypt$new')
    assert.equal(rotated?.previousSecretHash, client.secretHash)
    assert.equal(rotated?.previousExpiresAt, 500)
    assert.equal(rotated?.rotatedAt, 400)
    assert.equal(await store.clients.setDisabled('cli_unknown', 1), null)
    assert.equal(await store.clients.rotate('cli_unknown', { secretHash: 'x', previousExpiresAt: 1, rotatedAt: 1 }), null)
    assert.equal(await store.clients.delete(client.id), true)
    assert.equal(await store.clients.delete(client.id), false)
    assert.equal(await store.clients.get(client.id), null)
  }))

  test('signing keys: published newest first until retire_after; the first retirement is kept', withStore(async (store) => {
    const old = sampleSigningKey()
    const current = sampleSigningKey()
    await store.signingKeys.insert(old)
    await store.signingKeys.insert(current)
    await assert.rejects(store.signingKeys.insert(old))
    assert.deepEqual(await store.signingKeys.listPublished(0), [current, old])
    const retired = await store.signingKeys.retire(old.kid, 1_000, 5_000)
    assert.deepEqual(retired, { ...old, retiredAt: 1_000, retireAfter: 5_000 })
    assert.deepEqual(await store.signingKeys.retire(old.kid, 2_000, 9_000), retired)
    assert.deepEqual((await store.signingKeys.listPublished(4_999)).map((k) => k.kid), [current.kid, old.kid])
    assert.deepEqual((await store.signingKeys.listPublished(5_000)).map((k) => k.kid), [current.kid])
    assert.equal(await store.signingKeys.retire('kid-unknown', 1, 2), null)
  }))
  test('revoked tokens: a repeat keeps the later expiry; listActive and purgeExpired split at expiresAt', withStore(async (store) => {
    const byJti = (list: RevokedToken[]): RevokedToken[] => [...list].sort((x, y) => x.jti.localeCompare(y.jti))
    assert.deepEqual(await store.revokedTokens.listActive(0), [])
    const a = { jti: 'jti-a', expiresAt: 1_000, revokedAt: 10 }
    const b = { jti: 'jti-b', expiresAt: 2_000, revokedAt: 20 }
    const c = { jti: 'jti-c', expiresAt: 500, revokedAt: 5 }
    for (const token of [a, b, c]) await store.revokedTokens.insert(token)
    assert.deepEqual(byJti(await store.revokedTokens.listActive(0)), [a, b, c])
    await store.revokedTokens.insert({ jti: 'jti-a', expiresAt: 3_000, revokedAt: 30 })
    await store.revokedTokens.insert({ jti: 'jti-a', expiresAt: 100, revokedAt: 40 })
    const laterA = { ...a, expiresAt: 3_000 }
    assert.deepEqual(byJti(await store.revokedTokens.listActive(0)), [laterA, b, c])
    assert.deepEqual(byJti(await store.revokedTokens.listActive(500)), [laterA, b])
    assert.deepEqual(byJti(await store.revokedTokens.listActive(2_000)), [laterA])
    assert.equal(await store.revokedTokens.purgeExpired(2_000), 2)
    assert.equal(await store.revokedTokens.purgeExpired(2_000), 0)
    assert.deepEqual(await store.revokedTokens.listActive(0), [laterA])
    assert.equal(await store.revokedTokens.purgeExpired(3_000), 1)
    assert.deepEqual(await store.revokedTokens.listActive(0), [])
  }))
}
