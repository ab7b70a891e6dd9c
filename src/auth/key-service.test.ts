import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../errors/gateway-error.ts'
import { keyForId } from './api-key-format.ts'
import { startKeyService } from './key-service-fixture.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { createKeyService } from './key-service.ts'
import { randomBytes } from 'node:crypto'

function code (expected: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof GatewayError, String(err))
    assert.equal(err.code, expected)
    return true
  }
}

const chatKey = { name: 'ci-bot', scopes: ['chat'], models: ['gpt-4o-mini', 'qwen2.5-*'], tenant: 'acme' }

test('a created key verifies to a principal carrying its id, tenant, scopes and models', async (t) => {
  const { service } = await startKeyService(t)
  const { key, secret } = await service.create({ ...chatKey, metadata: { team: 'ml' }, createdBy: 'key_admin' })
  assert.ok(secret.startsWith('pcl_'))
  assert.notEqual(key.secretHash, secret)
  assert.equal(key.lastFour, secret.slice(-4))
  const principal = await service.verify(secret)
  assert.equal(principal.kind, 'api_key')
  assert.equal(principal.keyId, key.id)
  assert.equal(principal.tenant, 'acme')
  assert.deepEqual([...principal.scopes], ['chat'])
  assert.deepEqual(principal.models, ['gpt-4o-mini', 'qwen2.5-*'])
  assert.equal((await service.get(key.id)).createdBy, 'key_admin')
})

test('malformed keys and bad checksums are rejected without touching the store', async (t) => {
  const { service, calls } = await startKeyService(t)
  const { secret } = await service.create(chatKey)
  const before = { ...calls }
  const typo = secret.slice(0, 30) + (secret[30] === 'x' ? 'y' : 'x') + secret.slice(31)
  for (const bad of ['', 'sk-proj-abc', 'pcl_short', secret.slice(0, -1), typo, secret + ' ', 'a'.repeat(5000)]) {
    await assert.rejects(async () => await service.verify(bad), code('invalid_api_key'), bad.slice(0, 20))
  }
  assert.deepEqual(calls, before)
})

test('a wrong secret for a real id is invalid_api_key; an unknown id is negatively cached briefly', async (t) => {
  const f = await startKeyService(t)
  const { key } = await f.service.create(chatKey)
  await assert.rejects(async () => await f.service.verify(keyForId(key.id).secret), code('invalid_api_key'))
  const unknown = keyForId('key_AAAAAAAAAAAAAAAA').secret
  const gets = f.calls.get ?? 0
  await assert.rejects(async () => await f.service.verify(unknown), code('invalid_api_key'))
  await assert.rejects(async () => await f.service.verify(unknown), code('invalid_api_key'))
  assert.equal(f.calls.get, gets + 1)
  f.clock.now += 1_001
  await assert.rejects(async () => await f.service.verify(unknown), code('invalid_api_key'))
  assert.equal(f.calls.get, gets + 2)
})

test('lookups are cached for cache_ttl_ms and concurrent misses load once', async (t) => {
  const f = await startKeyService(t, { config: { cache_ttl_ms: 10_000 } })
  const { secret } = await f.service.create(chatKey)
  await Promise.all(Array.from({ length: 20 }, () => f.service.verify(secret)))
  assert.equal(f.calls.get, 1)
  f.clock.now += 9_999
  await f.service.verify(secret)
  assert.equal(f.calls.get, 1)
  f.clock.now += 2
  await f.service.verify(secret)
  assert.equal(f.calls.get, 2)
})

test('revocation takes effect on the very next request despite a warm cache', async (t) => {
  const { service } = await startKeyService(t, { config: { cache_ttl_ms: 3_600_000 } })
  const { key, secret } = await service.create(chatKey)
  await service.verify(secret)
  const revoked = await service.revoke(key.id)
  assert.equal(service.status(revoked), 'revoked')
  await assert.rejects(async () => await service.verify(secret), code('revoked_credentials'))
  // Someone guessing secrets for a revoked id learns nothing about its state.
  await assert.rejects(async () => await service.verify(keyForId(key.id).secret), code('invalid_api_key'))
})

test('rotation with grace: new secret at once, old until the grace ends, then expired_credentials', async (t) => {
  const f = await startKeyService(t, { config: { cache_ttl_ms: 3_600_000 } })
  const { key, secret: oldSecret } = await f.service.create(chatKey)
  await f.service.verify(oldSecret)
  const rotated = await f.service.rotate(key.id, 60)
  assert.equal(rotated.key.id, key.id)
  assert.notEqual(rotated.secret, oldSecret)
  assert.equal(rotated.key.lastFour, rotated.secret.slice(-4))
  assert.equal((await f.service.verify(rotated.secret)).keyId, key.id)
  f.clock.now += 59_999
  assert.equal((await f.service.verify(oldSecret)).keyId, key.id)
  f.clock.now += 1
  await assert.rejects(async () => await f.service.verify(oldSecret), code('expired_credentials'))
  assert.equal((await f.service.verify(rotated.secret)).keyId, key.id)
})

test('rotation without grace retires the old secret immediately; a second rotation forgets the first secret', async (t) => {
  const { service } = await startKeyService(t)
  const { key, secret: first } = await service.create(chatKey)
  const { secret: second } = await service.rotate(key.id)
  await assert.rejects(async () => await service.verify(first), code('expired_credentials'))
  const { secret: third } = await service.rotate(key.id, 3600)
  await service.verify(second)
  await service.verify(third)
  await assert.rejects(async () => await service.verify(first), code('invalid_api_key'))
})

test('an expired key is expired_credentials; revoked or expired keys cannot be rotated', async (t) => {
  const f = await startKeyService(t)
  const { key, secret } = await f.service.create({ ...chatKey, expiresAt: f.clock.now + 1000 })
  await f.service.verify(secret)
  f.clock.now += 1000
  await assert.rejects(async () => await f.service.verify(secret), code('expired_credentials'))
  assert.equal(f.service.status(await f.service.get(key.id)), 'expired')
  await assert.rejects(f.service.rotate(key.id), code('invalid_request'))
  const other = await f.service.create(chatKey)
  await f.service.revoke(other.key.id)
  await assert.rejects(f.service.rotate(other.key.id), code('invalid_request'))
})

test('unknown ids are not_found for get, revoke and rotate; bad grace and cursors are invalid_request', async (t) => {
  const { service } = await startKeyService(t)
  const { key } = await service.create(chatKey)
  await assert.rejects(service.get('key_nope'), code('not_found'))
  await assert.rejects(service.revoke('key_nope'), code('not_found'))
  await assert.rejects(service.rotate('key_nope'), code('not_found'))
  for (const grace of [-1, 1.5, 31 * 86_400]) await assert.rejects(service.rotate(key.id, grace), code('invalid_request'))
  await assert.rejects(service.list({ limit: 10, after: 'key_nope' }), code('invalid_request'))
  assert.deepEqual((await service.list({ limit: 10, after: key.id })).items, [])
})

test('creation rules name the field at fault', async (t) => {
  const f = await startKeyService(t, { config: { max_ttl_seconds: 3600 } })
  const soon = f.clock.now + 60_000
  const cases: Array<[object, string]> = [
    [{ name: '' }, 'name'], [{ name: 'x'.repeat(129) }, 'name'], [{ name: 'a\nb' }, 'name'],
    [{ scopes: [] }, 'scopes'], [{ scopes: ['chat', 'root'] }, 'scopes'],
    [{ models: [] }, 'models'], [{ models: ['gpt-*-mini'] }, 'models'],
    [{ tenant: '' }, 'tenant'],
    [{ expiresAt: f.clock.now }, 'expires_at'], [{ expiresAt: f.clock.now + 3_601_000 }, 'expires_at'], [{ expiresAt: null }, 'expires_at'],
    [{ metadata: { blob: 'x'.repeat(5000) } }, 'metadata']
  ]
  for (const [override, param] of cases) {
    await assert.rejects(f.service.create({ ...chatKey, expiresAt: soon, ...override }), (err: unknown) => {
      assert.ok(err instanceof GatewayError)
      assert.equal(err.code, 'invalid_request')
      assert.equal(err.param, param, JSON.stringify(override).slice(0, 60))
      return true
    })
  }
  const ok = await f.service.create({ ...chatKey, scopes: ['chat', 'chat', 'admin:keys'], expiresAt: f.clock.now + 3_600_000 })
  assert.deepEqual(ok.key.scopes, ['chat', 'admin:keys'])
})

test('last_used_at is batched in memory and written on flush and on close, not per request', async (t) => {
  const f = await startKeyService(t)
  const { key, secret } = await f.service.create(chatKey)
  for (let i = 0; i < 50; i++) {
    f.clock.now += 10
    await f.service.verify(secret)
  }
  assert.equal(f.calls.touchLastUsed, undefined)
  assert.equal((await f.store.keys.get(key.id))?.lastUsedAt, null)
  await f.service.flush()
  assert.equal(f.calls.touchLastUsed, 1)
  assert.equal((await f.store.keys.get(key.id))?.lastUsedAt, f.clock.now)
  f.clock.now += 5
  await f.service.verify(secret)
  await f.service.close()
  assert.equal((await f.store.keys.get(key.id))?.lastUsedAt, f.clock.now)
})

test('last_used_at is also flushed by the timer', async (t) => {
  const f = await startKeyService(t, { config: { last_used_flush_ms: 20 } })
  const { key, secret } = await f.service.create(chatKey)
  await f.service.verify(secret)
  for (let i = 0; i < 100 && (await f.store.keys.get(key.id))?.lastUsedAt === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.equal((await f.store.keys.get(key.id))?.lastUsedAt, f.clock.now)
})

test('the bootstrap admin key is accepted with admin scope only, and must be long', async (t) => {
  const adminKey = randomBytes(24).toString('base64url')
  const f = await startKeyService(t, { bootstrapAdminKey: adminKey })
  const principal = await f.service.verify(adminKey)
  assert.equal(principal.kind, 'bootstrap_admin')
  assert.deepEqual([...principal.scopes], ['admin'])
  assert.deepEqual(principal.models, [])
  await assert.rejects(async () => await f.service.verify(adminKey.slice(0, -1) + (adminKey.endsWith('A') ? 'B' : 'A')), code('invalid_api_key'))
  assert.equal(await f.service.ensureBootstrapAdmin(), null)
  assert.throws(() => createKeyService({
    store: f.store.keys, masterKey: randomBytes(32), bootstrapAdminKey: 'short', log: silentLog,
    config: { cache_ttl_ms: 0, max_ttl_seconds: null, last_used_flush_ms: 1000 }
  }), /at least 32 characters/)
})

test('ensureBootstrapAdmin creates one admin key when none is live, then never again', async (t) => {
  const { service } = await startKeyService(t)
  const secret = await service.ensureBootstrapAdmin()
  assert.ok(secret !== null)
  const principal = await service.verify(secret)
  assert.deepEqual([...principal.scopes], ['admin'])
  assert.equal(principal.name, 'bootstrap-admin')
  assert.equal(await service.ensureBootstrapAdmin(), null)
  await service.revoke(principal.keyId as string)
  assert.ok(await service.ensureBootstrapAdmin() !== null, 'a locked-out install recovers on the next start')
})

test('a store failure during verification fails closed as service_unavailable', async (t) => {
  const f = await startKeyService(t)
  const { secret } = await f.service.create(chatKey)
  await f.store.close()
  await assert.rejects(async () => await f.service.verify(secret), code('service_unavailable'))
})
