import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startClientService } from '../admin/clients-test-fixture.ts'
import { verifyClientSecretWithRotation, looksLikeClientSecret } from './client-secret.ts'
import { createClientAuthenticator } from './client-authentication.ts'
import { fastScrypt } from './oauth-test-fixture.ts'
import { isClientId } from './client-rules.ts'
import { createClientService } from './client-service.ts'
import { compileRoles, defaultRoles } from '../auth/roles.ts'
import type { ClientStore } from '../store/store.ts'

const basic = (id: string, secret: string) => ({ headers: { authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64') }, form: {} })

test('create stores a scrypt hash, returns the secret once, and validates every field', async (t) => {
  const { service, store, dataDir } = await startClientService(t)
  const { client, secret } = await service.create({
    name: 'billing-svc', tenant: 'acme', scopes: ['chat'], roles: ['user'], models: ['gpt-4o-mini', 'gpt-4o-mini'],
    allowedIps: ['10.0.0.0/8', '2001:db8::1'], metadata: { team: 'billing' }, createdBy: 'key_x'
  })
  assert.match(client.id, /^cli_[0-9A-Za-z]{16}$/)
  assert.ok(isClientId(client.id))
  assert.ok(looksLikeClientSecret(secret))
  assert.deepEqual(client.models, ['gpt-4o-mini'])
  assert.equal(client.createdBy, 'key_x')
  const stored = await store.clients.get(client.id)
  assert.deepEqual(stored, client)
  assert.match(client.secretHash, /^scrypt\$ln=4,/)
  assert.equal(await verifyClientSecretWithRotation(secret, client), 'current')
  // Canary: the secret is in no stored byte (database, WAL).
  await store.close()
  for (const file of await readdir(dataDir)) {
    assert.ok(!(await readFile(join(dataDir, file))).includes(secret), file)
  }
})

test('create refuses invalid input with invalid_request naming the field', async (t) => {
  const { service, calls } = await startClientService(t)
  const ok = { name: 'x', scopes: ['chat'] }
  const cases: Array<[object, string]> = [
    [{ ...ok, name: '' }, 'name'],
    [{ ...ok, name: 'a\u0007b' }, 'name'],
    [{ ...ok, tenant: 'x'.repeat(129) }, 'tenant'],
    [{ ...ok, scopes: ['root'] }, 'scopes'],
    [{ name: 'x', scopes: [], roles: [] }, 'scopes'],
    [{ name: 'x' }, 'scopes'],
    [{ ...ok, roles: ['wizard'] }, 'roles'],
    [{ ...ok, roles: ['constructor'] }, 'roles'],
    [{ ...ok, models: [] }, 'models'],
    [{ ...ok, models: ['a*b'] }, 'models'],
    [{ ...ok, allowedIps: [] }, 'allowed_ips'],
    [{ ...ok, allowedIps: ['10.0.0.0/33'] }, 'allowed_ips'],
    [{ ...ok, allowedIps: ['example.com'] }, 'allowed_ips'],
    [{ ...ok, allowedIps: Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`) }, 'allowed_ips'],
    [{ ...ok, metadata: { blob: 'x'.repeat(5000) } }, 'metadata']
  ]
  for (const [input, param] of cases) {
    await assert.rejects(service.create(input as never), (err: { code: string, param: string }) => {
      assert.equal(err.code, 'invalid_request', JSON.stringify(input).slice(0, 80))
      assert.equal(err.param, param, JSON.stringify(input).slice(0, 80))
      return true
    })
  }
  assert.equal(calls.insert, undefined)
  // Roles alone are enough, and configured roles count.
  const custom = await startClientService(t, { roles: compileRoles({ reporter: ['models:read'] }) })
  assert.deepEqual((await custom.service.create({ name: 'r', roles: ['reporter'] })).client.roles, ['reporter'])
})

test('list pages newest first, filters by tenant, and refuses an unknown cursor', async (t) => {
  const { service, clock } = await startClientService(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    clock.now += 1000
    ids.push((await service.create({ name: `c${i}`, scopes: ['chat'], tenant: i % 2 === 0 ? 'acme' : 'globex' })).client.id)
  }
  const first = await service.list({ limit: 2 })
  assert.deepEqual(first.items.map((c) => c.id), [ids[4], ids[3]])
  assert.equal(first.hasMore, true)
  const rest = await service.list({ limit: 10, after: ids[3] })
  assert.deepEqual(rest.items.map((c) => c.id), [ids[2], ids[1], ids[0]])
  assert.equal(rest.hasMore, false)
  assert.deepEqual((await service.list({ limit: 10, tenant: 'acme' })).items.map((c) => c.id), [ids[4], ids[2], ids[0]])
  for (const after of ['cli_AAAAAAAAAAAAAAAA', 'nonsense']) {
    await assert.rejects(service.list({ limit: 10, after }), { code: 'invalid_request', param: 'after' })
  }
})

test('unknown and malformed ids are not_found on every operation; malformed ones never reach the store', async (t) => {
  const { service, calls } = await startClientService(t)
  const operations = [
    (id: string) => service.get(id), (id: string) => service.disable(id), (id: string) => service.enable(id),
    (id: string) => service.rotate(id), (id: string) => service.revokeTokens(id), (id: string) => service.delete(id)
  ]
  for (const operation of operations) {
    await assert.rejects(operation('cli_AAAAAAAAAAAAAAAA'), { code: 'not_found', message: 'No OAuth client with this id.' })
    await assert.rejects(operation('../etc/passwd'), { code: 'not_found' })
  }
  const before = { ...calls }
  for (const operation of operations) await assert.rejects(operation('key_AAAAAAAAAAAAAAAA'), { code: 'not_found' })
  assert.equal(await service.find('x'.repeat(300)), null)
  assert.deepEqual(calls, before)
})

test('disable, enable, revokeTokens and delete change the client and what the token endpoint sees', async (t) => {
  const { service, clock } = await startClientService(t)
  const { client, secret } = await service.create({ name: 'svc', scopes: ['chat'], roles: ['auditor'], allowedIps: ['192.0.2.0/24'] })
  const authenticate = createClientAuthenticator({ findClient: service.findClient, scryptParams: fastScrypt, now: () => clock.now })
  const ok = await authenticate({ ...basic(client.id, secret), ip: '192.0.2.7' })
  assert.equal(ok.ok, true)
  const oauth = ok.ok ? ok.client : null
  // Effective scopes: the client's own plus those of its roles.
  assert.deepEqual(new Set(oauth?.scopes), new Set(['chat', 'admin:audit', 'admin:usage', 'metrics:read']))
  assert.equal(oauth?.allowedIps?.has('192.0.2.7'), true)
  assert.equal(oauth?.allowedIps?.has('198.51.100.1'), false)
  clock.now += 5000
  const disabled = await service.disable(client.id)
  assert.equal(disabled.disabledAt, clock.now)
  assert.equal(service.status(disabled), 'disabled')
  // Takes effect at once on this instance, although the client was cached a moment ago.
  assert.equal((await authenticate({ ...basic(client.id, secret), ip: '192.0.2.7' })).ok, false)
  clock.now += 1000
  assert.equal((await service.disable(client.id)).disabledAt, clock.now - 1000, 'a second disable keeps the first time')
  assert.equal(service.status(await service.enable(client.id)), 'active')
  assert.equal((await authenticate({ ...basic(client.id, secret), ip: '192.0.2.7' })).ok, true)
  const revoked = await service.revokeTokens(client.id)
  assert.equal(revoked.tokensRevokedBefore, clock.now)
  assert.equal((await service.find(client.id))?.tokensRevokedBefore, clock.now)
  await service.delete(client.id)
  assert.equal(await service.find(client.id), null)
  await assert.rejects(service.get(client.id), { code: 'not_found' })
  await assert.rejects(service.delete(client.id), { code: 'not_found' })
})

test('rotate issues a new secret and keeps the old one only for the grace period, at most maxGraceSeconds', async (t) => {
  const { service, clock } = await startClientService(t, { maxGraceSeconds: 3600 })
  const { client, secret: old } = await service.create({ name: 'svc', scopes: ['chat'] })
  for (const grace of [-1, 3601, 1.5, Number.NaN]) {
    await assert.rejects(service.rotate(client.id, grace), { code: 'invalid_request', param: 'grace_period_seconds' })
  }
  const { client: rotated, secret: fresh } = await service.rotate(client.id, 600)
  assert.notEqual(fresh, old)
  assert.equal(rotated.id, client.id)
  assert.equal(rotated.rotatedAt, clock.now)
  assert.equal(rotated.previousExpiresAt, clock.now + 600_000)
  const authenticate = createClientAuthenticator({ findClient: service.findClient, scryptParams: fastScrypt, now: () => clock.now })
  assert.deepEqual(await authenticate(basic(client.id, old)).then((r) => r.ok && r.secret), 'previous')
  assert.deepEqual(await authenticate(basic(client.id, fresh)).then((r) => r.ok && r.secret), 'current')
  clock.now += 600_000
  assert.equal((await authenticate(basic(client.id, old))).ok, false)
  // Without a grace period the old secret stops at once.
  const { secret: third } = await service.rotate(client.id)
  assert.equal((await authenticate(basic(client.id, fresh))).ok, false)
  assert.equal((await authenticate(basic(client.id, third))).ok, true)
})

test('find caches hits for the TTL and misses briefly, loads once per id, and every change invalidates', async (t) => {
  const { service, calls, clock } = await startClientService(t)
  const { client } = await service.create({ name: 'svc', scopes: ['chat'] })
  calls.get = 0
  const [a, b, c] = await Promise.all([service.find(client.id), service.find(client.id), service.find(client.id)])
  assert.equal(calls.get, 1, 'concurrent lookups share one store read')
  assert.equal(a, b)
  assert.equal(b, c)
  assert.equal(service.toOAuthClient(a!), service.toOAuthClient(b!), 'one mapping per cached record')
  clock.now += 29_000
  await service.find(client.id)
  assert.equal(calls.get, 1)
  clock.now += 2_000
  await service.find(client.id)
  assert.equal(calls.get, 2, 'reloaded after 30 s')
  // Unknown ids are remembered for about a second, so one created elsewhere appears soon.
  await service.find('cli_BBBBBBBBBBBBBBBB')
  await service.find('cli_BBBBBBBBBBBBBBBB')
  assert.equal(calls.get, 3)
  clock.now += 1_001
  await service.find('cli_BBBBBBBBBBBBBBBB')
  assert.equal(calls.get, 4)
})

test('a lookup in flight while the client changes does not put the old record back in the cache', async (t) => {
  const { store } = await startClientService(t)
  let release = (): void => {}
  let hold = false
  // A store whose reads can be held back, to order the race deterministically.
  const slow: ClientStore = {
    ...store.clients,
    async get (id) {
      const record = await store.clients.get(id)
      if (hold) await new Promise<void>((resolve) => { release = resolve })
      return record
    }
  }
  const service = createClientService({ store: slow, roles: defaultRoles, maxGraceSeconds: 0, scryptParams: fastScrypt })
  const { client } = await service.create({ name: 'svc', scopes: ['chat'] })
  hold = true
  const inFlight = service.find(client.id)
  await new Promise((resolve) => setImmediate(resolve))
  await service.disable(client.id)
  hold = false
  release()
  assert.equal((await inFlight)?.disabledAt, null, 'the read began before the change')
  assert.notEqual((await service.find(client.id))?.disabledAt, null)
})

test('a store failure in find is a retryable service_unavailable that names no secret', async (t) => {
  const { service, store } = await startClientService(t)
  const { client, secret } = await service.create({ name: 'svc', scopes: ['chat'] })
  await store.close()
  await assert.rejects(service.find(client.id), (err: Error & { code: string }) => {
    assert.equal(err.code, 'service_unavailable')
    assert.ok(!JSON.stringify(err).includes(secret) && !err.message.includes(secret) && !String(err.cause).includes(secret))
    return true
  })
})
