import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { randomBytes } from 'node:crypto'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import { createAdminTestApp } from './admin-test-app.ts'

interface Harness extends KeyServiceFixture {
  readonly app: FastifyInstance
  readonly routes: RouteOptions[]
  readonly admin: string
  readonly keysAdmin: string
  readonly chat: string
  readonly bootstrap: string
}

async function harness (t: TestContext): Promise<Harness> {
  const bootstrap = randomBytes(32).toString('base64url')
  const f = await startKeyService(t, { bootstrapAdminKey: bootstrap })
  const routes: RouteOptions[] = []
  const app = await createAdminTestApp(t, f.service, routes)
  await app.ready()
  const admin = (await f.service.create({ name: 'admin', scopes: ['admin'] })).secret
  const keysAdmin = (await f.service.create({ name: 'keys-admin', scopes: ['admin:keys'] })).secret
  const chat = (await f.service.create({ name: 'chat', scopes: ['chat', 'models:read'] })).secret
  return { ...f, app, routes, admin, keysAdmin, chat, bootstrap }
}

async function call (h: Harness, method: 'GET' | 'POST', url: string, key: string | null, payload?: unknown) {
  const res = await h.app.inject({ method, url, headers: key === null ? {} : { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  return { status: res.statusCode, body: res.json(), text: res.body, headers: res.headers }
}

test('every admin route declares a scope, and refuses missing, invalid and under-scoped credentials', async (t) => {
  const h = await harness(t)
  const { key } = await h.service.create({ name: 'target', scopes: ['chat'] })
  assert.ok(h.routes.length >= 5)
  for (const route of h.routes) {
    assert.match(route.url, /^\/admin\/v1\//)
    assert.equal(typeof (route.config as { adminScope?: string } | undefined)?.adminScope, 'string', route.url)
    const url = route.url.replace(':id', key.id)
    // Fastify adds a HEAD twin for each GET: same hooks, same answer without a body.
    const method = route.method === 'HEAD' ? 'GET' : route.method as 'GET' | 'POST'
    const expectations: Array<[string | null, number, string]> = [
      [null, 401, 'missing_credentials'], ['pcl_not_a_key', 401, 'invalid_api_key'], [h.chat, 403, 'insufficient_scope']
    ]
    for (const [credential, status, code] of expectations) {
      const res = await call(h, method, url, credential, method === 'POST' ? {} : undefined)
      assert.equal(res.status, status, `${method} ${url}`)
      assert.equal(res.body.error.code, code)
    }
  }
  assert.equal((await h.app.inject({ method: 'HEAD', url: '/admin/v1/keys' })).statusCode, 401)
  const viaQuery = await h.app.inject({ method: 'GET', url: `/admin/v1/keys?api_key=${h.admin}&key=${h.admin}` })
  assert.equal(viaQuery.statusCode, 401)
  assert.equal(viaQuery.json().error.code, 'missing_credentials')
})

test('admin, admin:keys and the bootstrap key may all manage keys; x-api-key works too', async (t) => {
  const h = await harness(t)
  for (const credential of [h.admin, h.keysAdmin, h.bootstrap]) {
    const res = await call(h, 'GET', '/admin/v1/keys', credential)
    assert.equal(res.status, 200)
    assert.equal(res.headers['cache-control'], 'no-store')
  }
  const res = await h.app.inject({ method: 'GET', url: '/admin/v1/keys', headers: { 'x-api-key': h.keysAdmin } })
  assert.equal(res.statusCode, 200)
})

test('POST /keys creates a key, shows its secret once, and records the creator', async (t) => {
  const h = await harness(t)
  const adminId = (await h.service.verify(h.admin)).keyId
  const res = await call(h, 'POST', '/admin/v1/keys', h.admin, {
    name: 'ci-bot', tenant: 'acme', scopes: ['chat', 'embeddings'], models: ['gpt-4o-mini', 'qwen2.5-*'], expires_in: 3600, metadata: { team: 'ml' }
  })
  assert.equal(res.status, 201)
  const body = res.body
  assert.equal(body.object, 'api_key')
  assert.match(body.id, /^key_[0-9A-Za-z]{16}$/)
  assert.equal(body.status, 'active')
  assert.equal(body.created_by, adminId)
  assert.deepEqual(body.models, ['gpt-4o-mini', 'qwen2.5-*'])
  assert.equal(body.last_four, body.secret.slice(-4))
  assert.ok(Math.abs(body.expires_at - (body.created_at + 3600)) <= 1)
  assert.equal((await h.service.verify(body.secret)).keyId, body.id)
  const fetched = await call(h, 'GET', `/admin/v1/keys/${body.id}`, h.admin)
  assert.equal(fetched.body.secret, undefined)
  const byBootstrap = await call(h, 'POST', '/admin/v1/keys', h.bootstrap, { name: 'x', scopes: ['chat'], expires_at: '2999-01-01T00:00:00Z' })
  assert.equal(byBootstrap.body.created_by, 'bootstrap_admin')
  assert.equal(byBootstrap.body.expires_at, Date.parse('2999-01-01T00:00:00Z') / 1000)
})

test('POST /keys validates strictly and names the field', async (t) => {
  const h = await harness(t)
  const cases: Array<[unknown, string | null]> = [
    [{ name: 'x', scopes: ['chat'], nmae: 'typo' }, 'nmae'],
    [{ scopes: ['chat'] }, 'name'],
    [{ name: 'x', scopes: 'chat' }, 'scopes'],
    [{ name: 'x', scopes: ['chat', 'superuser'] }, 'scopes'],
    [{ name: 'x', scopes: ['chat'], expires_in: -5 }, 'expires_in'],
    [{ name: 'x', scopes: ['chat'], expires_in: 60, expires_at: 4_000_000_000 }, 'expires_in'],
    [{ name: 'x', scopes: ['chat'], expires_at: Date.now() + 60_000 }, 'expires_at'],
    [{ name: 'x', scopes: ['chat'], expires_at: 'tomorrow' }, 'expires_at'],
    [{ name: 'x', scopes: ['chat'], expires_at: 1_000_000_000 }, 'expires_at'],
    [{ name: 'x', scopes: ['chat'], metadata: [1, 2] }, 'metadata'],
    [{ name: 'x', scopes: ['chat'], models: ['a*b'] }, 'models'],
    [['not', 'an', 'object'], null]
  ]
  for (const [payload, param] of cases) {
    const res = await call(h, 'POST', '/admin/v1/keys', h.admin, payload)
    assert.equal(res.status, 400, JSON.stringify(payload))
    assert.equal(res.body.error.code, 'invalid_request')
    assert.equal(res.body.error.param, param, JSON.stringify(payload))
  }
})

test('GET /keys pages with limit and after, filters by tenant, and validates its query', async (t) => {
  const h = await harness(t)
  for (let i = 0; i < 4; i++) {
    h.clock.now += 1000
    await h.service.create({ name: `t${i}`, tenant: 'acme', scopes: ['chat'] })
  }
  const seen: string[] = []
  let url = '/admin/v1/keys?limit=3'
  for (;;) {
    const res = await call(h, 'GET', url, h.admin)
    assert.equal(res.body.object, 'list')
    seen.push(...res.body.data.map((k: { id: string }) => k.id))
    if (!res.body.has_more) {
      assert.equal(res.body.next_cursor, null)
      break
    }
    url = `/admin/v1/keys?limit=3&after=${res.body.next_cursor}`
  }
  assert.equal(seen.length, 7)
  assert.equal(new Set(seen).size, 7)
  const acme = await call(h, 'GET', '/admin/v1/keys?tenant=acme', h.admin)
  assert.deepEqual(acme.body.data.map((k: { name: string }) => k.name), ['t3', 't2', 't1', 't0'])
  for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['after=key_nope', 'after'], ['colour=red', 'colour']]) {
    const res = await call(h, 'GET', `/admin/v1/keys?${query}`, h.admin)
    assert.equal(res.status, 400, query)
    assert.equal(res.body.error.param, param)
  }
})

test('unknown or malformed ids are 404 not_found on get, revoke and rotate', async (t) => {
  const h = await harness(t)
  for (const id of ['key_AAAAAAAAAAAAAAAA', 'nope', 'pcl_secretlooking']) {
    for (const [method, suffix] of [['GET', ''], ['POST', '/revoke'], ['POST', '/rotate']] as const) {
      const res = await call(h, method, `/admin/v1/keys/${id}${suffix}`, h.admin, method === 'POST' ? {} : undefined)
      assert.equal(res.status, 404, `${method} ${id}${suffix}`)
      assert.equal(res.body.error.code, 'not_found')
    }
  }
})

test('revoke takes effect on the next request; rotate returns a new secret with a grace period', async (t) => {
  const h = await harness(t)
  const created = (await call(h, 'POST', '/admin/v1/keys', h.admin, { name: 'ops', scopes: ['admin:keys'] })).body
  assert.equal((await call(h, 'GET', '/admin/v1/keys', created.secret)).status, 200)
  const rotated = await call(h, 'POST', `/admin/v1/keys/${created.id}/rotate`, h.admin, { grace_period_seconds: 60 })
  assert.equal(rotated.status, 200)
  assert.equal(rotated.body.id, created.id)
  assert.notEqual(rotated.body.secret, created.secret)
  assert.equal((await call(h, 'GET', '/admin/v1/keys', created.secret)).status, 200)
  assert.equal((await call(h, 'GET', '/admin/v1/keys', rotated.body.secret)).status, 200)
  h.clock.now += 60_000
  assert.equal((await call(h, 'GET', '/admin/v1/keys', created.secret)).body.error.code, 'expired_credentials')
  const badGrace = await call(h, 'POST', `/admin/v1/keys/${created.id}/rotate`, h.admin, { grace_period_seconds: 'soon' })
  assert.equal(badGrace.body.error.param, 'grace_period_seconds')
  const revoked = await call(h, 'POST', `/admin/v1/keys/${created.id}/revoke`, h.admin)
  assert.equal(revoked.body.status, 'revoked')
  assert.equal(typeof revoked.body.revoked_at, 'number')
  const after = await call(h, 'GET', '/admin/v1/keys', rotated.body.secret)
  assert.equal(after.status, 401)
  assert.equal(after.body.error.code, 'revoked_credentials')
})

test('canary: list and get responses never carry a secret or a hash', async (t) => {
  const h = await harness(t)
  const secrets = [h.admin, h.keysAdmin, h.chat]
  const created = (await call(h, 'POST', '/admin/v1/keys', h.admin, { name: 'canary', scopes: ['chat'] })).body
  secrets.push(created.secret)
  secrets.push((await call(h, 'POST', `/admin/v1/keys/${created.id}/rotate`, h.admin, { grace_period_seconds: 600 })).body.secret)
  const page = await h.store.keys.list({ limit: 100 })
  const hashes = page.items.flatMap((k) => [k.secretHash, k.previousSecretHash]).filter((x): x is string => x !== null)
  assert.ok(hashes.length >= 5)
  const texts = [(await call(h, 'GET', '/admin/v1/keys?limit=100', h.admin)).text]
  for (const k of page.items) texts.push((await call(h, 'GET', `/admin/v1/keys/${k.id}`, h.admin)).text)
  for (const text of texts) {
    assert.doesNotMatch(text, /hash|"secret"/i)
    for (const needle of [...secrets, ...hashes]) assert.ok(!text.includes(needle), 'a secret or hash leaked into a response')
  }
})

test('no escalation: admin:keys cannot mint, rotate or revoke an admin key, but issues proxy keys', async (t) => {
  const h = await harness(t)
  const mint = await call(h, 'POST', '/admin/v1/keys', h.keysAdmin, { name: 'sneaky', scopes: ['chat', 'admin'] })
  assert.equal(mint.status, 403)
  assert.equal(mint.body.error.code, 'insufficient_scope')
  assert.equal(mint.body.error.param, 'scopes')
  const adminId = (await h.service.verify(h.admin) as { keyId: string }).keyId
  for (const action of ['rotate', 'revoke']) {
    const res = await call(h, 'POST', `/admin/v1/keys/${adminId}/${action}`, h.keysAdmin, {})
    assert.equal(res.status, 403, action)
    assert.equal(res.body.error.code, 'insufficient_scope')
    assert.equal(res.text.includes('secret'), false)
  }
  assert.equal((await call(h, 'POST', '/admin/v1/keys', h.keysAdmin, { name: 'app', scopes: ['chat'] })).status, 201)
  assert.equal((await call(h, 'POST', '/admin/v1/keys', h.keysAdmin, { name: 'peer', scopes: ['admin:keys'] })).status, 201)
  assert.equal((await call(h, 'POST', '/admin/v1/keys', h.admin, { name: 'full', scopes: ['admin'] })).status, 201)
  assert.equal((await h.service.verify(h.admin) as { keyId: string }).keyId, adminId, 'the admin key still works')
})

