import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import { createAdminTestApp } from './admin-test-app.ts'
import type { FastifyInstance } from 'fastify'

interface Harness extends KeyServiceFixture {
  readonly app: FastifyInstance
  readonly operator: string
  readonly acmeAdmin: string
  readonly globexAdmin: string
}

async function harness (t: TestContext): Promise<Harness> {
  const f = await startKeyService(t)
  const app = await createAdminTestApp(t, f.service)
  await app.ready()
  const operator = (await f.service.create({ name: 'operator', scopes: ['admin'] })).secret
  const acmeAdmin = (await f.service.create({ name: 'acme-admin', tenant: 'acme', scopes: [], roles: ['tenant-admin'] })).secret
  const globexAdmin = (await f.service.create({ name: 'globex-admin', tenant: 'globex', scopes: ['admin:keys'] })).secret
  return { ...f, app, operator, acmeAdmin, globexAdmin }
}

async function call (h: Harness, method: 'GET' | 'POST', url: string, key: string, payload?: unknown) {
  const res = await h.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  return { status: res.statusCode, body: res.json(), text: res.body }
}

test('a tenant admin cannot reach another tenant\'s key by id: 404, exactly like a missing key', async (t) => {
  const h = await harness(t)
  const globexKey = (await h.service.create({ name: 'globex-app', tenant: 'globex', scopes: ['chat'] })).key
  const untenanted = (await h.service.create({ name: 'shared', scopes: ['chat'] })).key
  const missing = await call(h, 'GET', '/admin/v1/keys/key_AAAAAAAAAAAAAAAA', h.acmeAdmin)
  for (const target of [globexKey.id, untenanted.id]) {
    for (const [method, suffix] of [['GET', ''], ['POST', '/revoke'], ['POST', '/rotate']] as const) {
      const res = await call(h, method, `/admin/v1/keys/${target}${suffix}`, h.acmeAdmin, method === 'POST' ? {} : undefined)
      assert.equal(res.status, 404, `${method} ${suffix}`)
      assert.deepEqual({ ...res.body, error: { ...res.body.error } }, missing.body)
    }
  }
  // Nothing happened to the other tenant's key.
  assert.equal((await h.service.get(globexKey.id)).revokedAt, null)
  assert.equal((await h.service.get(globexKey.id)).rotatedAt, null)
  // The operator (no tenant) reaches both.
  assert.equal((await call(h, 'GET', `/admin/v1/keys/${globexKey.id}`, h.operator)).status, 200)
})

test('a tenant admin lists only its own tenant, and cannot page with another tenant\'s cursor', async (t) => {
  const h = await harness(t)
  const acmeKey = (await h.service.create({ name: 'acme-app', tenant: 'acme', scopes: ['chat'] })).key
  const globexKey = (await h.service.create({ name: 'globex-app', tenant: 'globex', scopes: ['chat'] })).key
  const mine = await call(h, 'GET', '/admin/v1/keys?limit=100', h.acmeAdmin)
  assert.equal(mine.status, 200)
  const tenants = new Set(mine.body.data.map((k: { tenant: string }) => k.tenant))
  assert.deepEqual([...tenants], ['acme'])
  assert.ok(mine.body.data.some((k: { id: string }) => k.id === acmeKey.id))
  const other = await call(h, 'GET', '/admin/v1/keys?tenant=globex', h.acmeAdmin)
  assert.equal(other.status, 403)
  assert.equal(other.body.error.param, 'tenant')
  const cursor = await call(h, 'GET', `/admin/v1/keys?after=${globexKey.id}`, h.acmeAdmin)
  assert.equal(cursor.status, 400)
  assert.equal(cursor.body.error.param, 'after')
  const all = await call(h, 'GET', '/admin/v1/keys?limit=100', h.operator)
  assert.ok(all.body.data.some((k: { id: string }) => k.id === globexKey.id))
})

test('a tenant admin creates keys in its own tenant only, and cannot grant admin rights it lacks', async (t) => {
  const h = await harness(t)
  const implicit = await call(h, 'POST', '/admin/v1/keys', h.acmeAdmin, { name: 'app', scopes: ['chat'] })
  assert.equal(implicit.status, 201)
  assert.equal(implicit.body.tenant, 'acme')
  const explicit = await call(h, 'POST', '/admin/v1/keys', h.acmeAdmin, { name: 'app', tenant: 'acme', roles: ['user'] })
  assert.equal(explicit.status, 201)
  assert.deepEqual(explicit.body.roles, ['user'])
  const elsewhere = await call(h, 'POST', '/admin/v1/keys', h.acmeAdmin, { name: 'app', tenant: 'globex', scopes: ['chat'] })
  assert.equal(elsewhere.status, 403)
  assert.equal(elsewhere.body.error.code, 'forbidden')
  for (const payload of [{ name: 'x', scopes: ['admin'] }, { name: 'x', roles: ['admin'] }, { name: 'x', scopes: ['admin:config'] }]) {
    const res = await call(h, 'POST', '/admin/v1/keys', h.acmeAdmin, payload)
    assert.equal(res.status, 403, JSON.stringify(payload))
    assert.equal(res.body.error.code, 'insufficient_scope')
  }
  // The tenant-admin role carries admin:clients, so a holder of admin:keys alone cannot hand it out.
  const viaRole = await call(h, 'POST', '/admin/v1/keys', h.globexAdmin, { name: 'x', roles: ['tenant-admin'] })
  assert.equal(viaRole.status, 403)
  assert.equal(viaRole.body.error.param, 'roles')
})

test('roles expand to scopes when the key is used; unknown roles and bad CIDRs are refused', async (t) => {
  const h = await harness(t)
  const dev = await call(h, 'POST', '/admin/v1/keys', h.operator, { name: 'dev', roles: ['developer'], allowed_ips: ['10.0.0.0/8', '2001:db8::/32'] })
  assert.equal(dev.status, 201)
  assert.deepEqual(dev.body.scopes, [])
  assert.deepEqual(dev.body.allowed_ips, ['10.0.0.0/8', '2001:db8::/32'])
  const principal = await h.service.verify(dev.body.secret)
  assert.deepEqual([...principal.scopes].sort(), ['admin:usage', 'chat', 'completions', 'embeddings', 'models:read'])
  assert.equal(principal.allowedIps?.has('10.1.2.3'), true)
  assert.equal(principal.allowedIps?.has('2001:db8::1'), true)
  assert.equal(principal.allowedIps?.has('192.0.2.1'), false)
  for (const [payload, param] of [
    [{ name: 'x', roles: ['wizard'] }, 'roles'],
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['chat'], allowed_ips: ['10.0.0.0/33'] }, 'allowed_ips'],
    [{ name: 'x', scopes: ['chat'], allowed_ips: ['example.com'] }, 'allowed_ips'],
    [{ name: 'x', scopes: ['chat'], allowed_ips: [] }, 'allowed_ips']
  ] as const) {
    const res = await call(h, 'POST', '/admin/v1/keys', h.operator, payload)
    assert.equal(res.status, 400, JSON.stringify(payload))
    assert.equal(res.body.error.param, param)
  }
})

test('a key with an IP allowlist is refused from any other address (403 ip_not_allowed)', async (t) => {
  const h = await harness(t)
  const local = await call(h, 'POST', '/admin/v1/keys', h.operator, { name: 'loopback-only', scopes: ['admin:keys'], allowed_ips: ['127.0.0.1'] })
  const remote = await call(h, 'POST', '/admin/v1/keys', h.operator, { name: 'office-only', scopes: ['admin:keys'], allowed_ips: ['203.0.113.0/24'] })
  assert.equal((await call(h, 'GET', '/admin/v1/keys', local.body.secret)).status, 200)
  const refused = await call(h, 'GET', '/admin/v1/keys', remote.body.secret)
  assert.equal(refused.status, 403)
  assert.equal(refused.body.error.code, 'ip_not_allowed')
})
