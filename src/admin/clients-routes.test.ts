import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { clientsAdminHarness, type ClientsAdminHarness } from './clients-test-fixture.ts'
import { clientRoutes } from './clients-routes.ts'
import { registerAdminRoutes } from './admin-routes.ts'
import { handleError } from '../server/error-handler.ts'
import { createCredentialAuthenticator } from '../auth/credential-authenticator.ts'
import { createClientIpResolver } from '../edge/client-ip.ts'
import { verifyClientSecretWithRotation } from '../oauth/client-secret.ts'
import { collectingEvidenceSink } from '../audit/evidence-sink.ts'

type Method = 'GET' | 'POST' | 'DELETE'

async function call (h: ClientsAdminHarness, method: Method, url: string, key: string | null, payload?: unknown) {
  const res = await h.app.inject({
    method, url: '/admin/v1' + url, headers: key === null ? {} : { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as object })
  })
  return { status: res.statusCode, body: res.body === '' ? null : res.json(), text: res.body, headers: res.headers }
}

const missingId = 'cli_AAAAAAAAAAAAAAAA'
const changes: ReadonlyArray<[Method, string, object | undefined]> = [
  ['POST', '/disable', {}], ['POST', '/enable', {}], ['POST', '/rotate', {}], ['POST', '/revoke-tokens', {}], ['DELETE', '', undefined]
]

test('every client route needs admin:clients (or admin) and refuses missing or weaker credentials', async (t) => {
  const h = await clientsAdminHarness(t)
  const { client } = await h.clients.service.create({ name: 'target', scopes: ['chat'] })
  const routes = clientRoutes(h.clients.service)
  assert.equal(routes.length, 8)
  for (const route of routes) {
    assert.equal(route.scope, 'admin:clients')
    const url = route.url.replace(':id', client.id)
    const payload = route.method === 'POST' ? {} : undefined
    for (const [credential, status, code] of [[null, 401, 'missing_credentials'], [h.chat, 403, 'insufficient_scope']] as const) {
      const res = await call(h, route.method, url, credential, payload)
      assert.equal(res.status, status, `${route.method} ${url}`)
      assert.equal(res.body.error.code, code)
    }
  }
  for (const credential of [h.operator, h.clientsAdmin]) {
    const res = await call(h, 'GET', '/clients', credential)
    assert.equal(res.status, 200)
    assert.equal(res.headers['cache-control'], 'no-store')
  }
  assert.equal((await h.clients.service.get(client.id)).disabledAt, null)
})

test('POST /clients registers a client, shows its secret once, and validates strictly', async (t) => {
  const h = await clientsAdminHarness(t)
  const res = await call(h, 'POST', '/clients', h.clientsAdmin, {
    name: 'billing-svc', tenant: 'acme', scopes: ['chat'], roles: ['user'], models: ['gpt-4o-mini'], allowed_ips: ['10.0.0.0/8'], metadata: { team: 'billing' }
  })
  assert.equal(res.status, 201)
  const body = res.body
  assert.equal(body.object, 'oauth_client')
  assert.match(body.client_id, /^cli_[0-9A-Za-z]{16}$/)
  assert.equal(body.id, body.client_id)
  assert.match(body.client_secret, /^pcs_/)
  assert.deepEqual([body.tenant, body.scopes, body.roles, body.models, body.allowed_ips, body.status], ['acme', ['chat'], ['user'], ['gpt-4o-mini'], ['10.0.0.0/8'], 'active'])
  assert.equal(body.created_by, (await h.keys.service.verify(h.clientsAdmin)).keyId)
  assert.equal(body.created_at, Math.floor(h.clients.clock.now / 1000))
  assert.deepEqual([body.rotated_at, body.disabled_at, body.tokens_revoked_before, body.previous_secret_expires_at], [null, null, null, null])
  assert.ok(!('secret_hash' in body) && !res.text.includes('scrypt$'))
  assert.equal(await verifyClientSecretWithRotation(body.client_secret, await h.clients.service.get(body.id)), 'current')
  const fetched = await call(h, 'GET', `/clients/${body.id}`, h.clientsAdmin)
  assert.equal(fetched.body.client_secret, undefined)
  const { client_secret: _secret, ...shown } = body
  assert.deepEqual(fetched.body, shown)
  const cases: Array<[unknown, string | null]> = [
    [{ name: 'x', scopes: ['chat'], client_secret: 'mine' }, 'client_secret'],
    [{ scopes: ['chat'] }, 'name'],
    [{ name: 'x' }, 'scopes'],
    [{ name: 'x', scopes: ['chat', 'superuser'] }, 'scopes'],
    [{ name: 'x', roles: ['wizard'] }, 'roles'],
    [{ name: 'x', scopes: ['chat'], allowed_ips: ['10.0.0.0/40'] }, 'allowed_ips'],
    [{ name: 'x', scopes: ['chat'], allowed_ips: [] }, 'allowed_ips'],
    [{ name: 'x', scopes: ['chat'], models: ['a*b'] }, 'models'],
    [{ name: 'x', scopes: ['chat'], metadata: [1] }, 'metadata'],
    [['not', 'an', 'object'], null]
  ]
  for (const [payload, param] of cases) {
    const bad = await call(h, 'POST', '/clients', h.clientsAdmin, payload)
    assert.equal(bad.status, 400, JSON.stringify(payload))
    assert.equal(bad.body.error.code, 'invalid_request')
    assert.equal(bad.body.error.param, param, JSON.stringify(payload))
  }
})

test('GET /clients pages with limit and after, filters by tenant, and validates its query', async (t) => {
  const h = await clientsAdminHarness(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    h.clients.clock.now += 1000
    ids.push((await h.clients.service.create({ name: `c${i}`, scopes: ['chat'], tenant: i < 3 ? 'acme' : null })).client.id)
  }
  const first = await call(h, 'GET', '/clients?limit=2', h.operator)
  assert.deepEqual(first.body.data.map((c: { id: string }) => c.id), [ids[4], ids[3]])
  assert.equal(first.body.has_more, true)
  assert.equal(first.body.next_cursor, ids[3])
  const next = await call(h, 'GET', `/clients?limit=2&after=${first.body.next_cursor}`, h.operator)
  assert.deepEqual(next.body.data.map((c: { id: string }) => c.id), [ids[2], ids[1]])
  const acme = await call(h, 'GET', '/clients?tenant=acme', h.operator)
  assert.deepEqual(acme.body.data.map((c: { id: string }) => c.id), [ids[2], ids[1], ids[0]])
  assert.equal(acme.body.next_cursor, null)
  for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=x', 'limit'], ['colour=red', 'colour'], [`after=${missingId}`, 'after']]) {
    const res = await call(h, 'GET', `/clients?${query}`, h.operator)
    assert.equal(res.status, 400, query)
    assert.equal(res.body.error.param, param)
  }
})

test('disable, enable, revoke-tokens, rotate and delete act on one client', async (t) => {
  const h = await clientsAdminHarness(t)
  const { client, secret } = await h.clients.service.create({ name: 'svc', scopes: ['chat'] })
  const disabled = await call(h, 'POST', `/clients/${client.id}/disable`, h.clientsAdmin, {})
  assert.equal(disabled.body.status, 'disabled')
  assert.equal(disabled.body.disabled_at, Math.floor(h.clients.clock.now / 1000))
  assert.equal((await call(h, 'POST', `/clients/${client.id}/enable`, h.clientsAdmin, {})).body.status, 'active')
  h.clients.clock.now += 2000
  const revoked = await call(h, 'POST', `/clients/${client.id}/revoke-tokens`, h.clientsAdmin, {})
  assert.equal(revoked.body.tokens_revoked_before, Math.floor(h.clients.clock.now / 1000))
  assert.equal((await call(h, 'POST', `/clients/${client.id}/disable`, h.clientsAdmin, { now: true })).body.error.param, 'now')
  const rotated = await call(h, 'POST', `/clients/${client.id}/rotate`, h.clientsAdmin, { grace_period_seconds: 3600 })
  assert.equal(rotated.status, 200)
  assert.match(rotated.body.client_secret, /^pcs_/)
  assert.notEqual(rotated.body.client_secret, secret)
  assert.equal(rotated.body.previous_secret_expires_at, rotated.body.rotated_at + 3600)
  const stored = await h.clients.service.get(client.id)
  assert.equal(await verifyClientSecretWithRotation(secret, stored, h.clients.clock.now), 'previous')
  const tooLong = await call(h, 'POST', `/clients/${client.id}/rotate`, h.clientsAdmin, { grace_period_seconds: 86_401 })
  assert.deepEqual([tooLong.status, tooLong.body.error.param], [400, 'grace_period_seconds'])
  const deleted = await call(h, 'DELETE', `/clients/${client.id}`, h.clientsAdmin)
  assert.deepEqual([deleted.status, deleted.body], [200, { id: client.id, object: 'oauth_client', deleted: true }])
  for (const [method, suffix, payload] of [['GET', '', undefined] as const, ...changes]) {
    for (const id of [client.id, 'not-an-id', missingId]) {
      const res = await call(h, method, `/clients/${id}${suffix}`, h.clientsAdmin, payload)
      assert.equal(res.status, 404, `${method} ${id}${suffix}`)
      assert.equal(res.body.error.code, 'not_found')
    }
  }
})

test('a tenant admin sees and changes only its own tenant\'s clients; others are 404 like missing ones', async (t) => {
  const h = await clientsAdminHarness(t)
  const s = h.clients.service
  const mine = (await s.create({ name: 'acme-app', tenant: 'acme', scopes: ['chat'] })).client
  const theirs = (await s.create({ name: 'globex-app', tenant: 'globex', scopes: ['chat'] })).client
  const shared = (await s.create({ name: 'shared', scopes: ['chat'] })).client
  const missing = await call(h, 'GET', `/clients/${missingId}`, h.acmeAdmin)
  for (const target of [theirs.id, shared.id]) {
    for (const [method, suffix, payload] of [['GET', '', undefined] as const, ...changes]) {
      const res = await call(h, method, `/clients/${target}${suffix}`, h.acmeAdmin, payload)
      assert.equal(res.status, 404, `${method} ${suffix}`)
      assert.deepEqual(res.body, missing.body)
    }
  }
  const untouched = await s.get(theirs.id)
  assert.deepEqual([untouched.disabledAt, untouched.rotatedAt, untouched.tokensRevokedBefore], [null, null, null])
  assert.equal((await call(h, 'POST', `/clients/${mine.id}/disable`, h.acmeAdmin, {})).status, 200)
  const list = await call(h, 'GET', '/clients', h.acmeAdmin)
  assert.deepEqual(list.body.data.map((c: { id: string }) => c.id), [mine.id])
  assert.equal((await call(h, 'GET', '/clients?tenant=globex', h.acmeAdmin)).status, 403)
  const cursor = await call(h, 'GET', `/clients?after=${theirs.id}`, h.acmeAdmin)
  assert.deepEqual([cursor.status, cursor.body.error.param], [400, 'after'])
  assert.deepEqual(cursor.body, (await call(h, 'GET', `/clients?after=${missingId}`, h.acmeAdmin)).body)
  const elsewhere = await call(h, 'POST', '/clients', h.acmeAdmin, { name: 'x', tenant: 'globex', scopes: ['chat'] })
  assert.deepEqual([elsewhere.status, elsewhere.body.error.code, elsewhere.body.error.param], [403, 'forbidden', 'tenant'])
  const forced = await call(h, 'POST', '/clients', h.acmeAdmin, { name: 'x', scopes: ['chat'] })
  assert.deepEqual([forced.status, forced.body.tenant], [201, 'acme'])
})

test('no escalation: admin:clients cannot grant, rotate, disable or delete admin rights it lacks', async (t) => {
  const h = await clientsAdminHarness(t)
  for (const [payload, param] of [[{ scopes: ['admin'] }, 'scopes'], [{ scopes: ['admin:keys'] }, 'scopes'], [{ roles: ['admin'] }, 'roles'], [{ scopes: ['chat'], roles: ['tenant-admin'] }, 'roles']] as const) {
    const res = await call(h, 'POST', '/clients', h.clientsAdmin, { name: 'x', ...payload })
    assert.equal(res.status, 403, JSON.stringify(payload))
    assert.deepEqual([res.body.error.code, res.body.error.param], ['insufficient_scope', param])
  }
  const strong = (await h.clients.service.create({ name: 'ops', scopes: ['chat'], roles: ['auditor'] })).client
  for (const [method, suffix, payload] of changes) {
    const res = await call(h, method, `/clients/${strong.id}${suffix}`, h.clientsAdmin, payload)
    assert.equal(res.status, 403, `${method} ${suffix}`)
    assert.equal(res.body.error.code, 'insufficient_scope')
    assert.equal(res.text.includes('pcs_'), false)
  }
  const after = await h.clients.service.get(strong.id)
  assert.deepEqual([after.disabledAt, after.rotatedAt, after.tokensRevokedBefore], [null, null, null])
  // The operator may; a tenant admin may give its own tenant what it holds itself.
  assert.equal((await call(h, 'POST', `/clients/${strong.id}/rotate`, h.operator, {})).status, 200)
  assert.equal((await call(h, 'POST', '/clients', h.acmeAdmin, { name: 'sub', roles: ['tenant-admin'] })).status, 201)
  assert.equal((await call(h, 'POST', '/clients', h.acmeAdmin, { name: 'sub', roles: ['auditor'] })).status, 403)
})

test('canary: a client secret never appears in list or get answers, error bodies or the logs', async (t) => {
  const h = await clientsAdminHarness(t)
  const logs: string[] = []
  const logger = pino({ level: 'trace' }, { write: (line: string) => { logs.push(line) } })
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger })
  app.setErrorHandler(handleError)
  const audit = collectingEvidenceSink()
  await registerAdminRoutes(app, {
    credentials: createCredentialAuthenticator({ keys: h.keys.service, tokens: null, throttle: null }),
    resolveClientIp: createClientIpResolver([]),
    routes: clientRoutes(h.clients.service),
    audit
  })
  t.after(() => app.close())
  const request = async (method: Method, url: string, payload?: object) => {
    const res = await app.inject({ method, url: '/admin/v1' + url, headers: { authorization: `Bearer ${h.operator}` }, ...(payload === undefined ? {} : { payload }) })
    return { status: res.statusCode, text: res.body, json: res.json() }
  }
  const created = await request('POST', '/clients', { name: 'canary', scopes: ['chat'] })
  const id = created.json.id as string
  const rotated = await request('POST', `/clients/${id}/rotate`, { grace_period_seconds: 60 })
  const secrets = [created.json.client_secret as string, rotated.json.client_secret as string]
  const answers = [
    await request('GET', '/clients'), await request('GET', `/clients/${id}`), await request('POST', `/clients/${id}/disable`, {}),
    await request('POST', `/clients/${id}/rotate`, { grace_period_seconds: -1 }), await request('POST', '/clients', { name: 'x', scopes: ['chat'], client_secret: secrets[0] })
  ]
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 400, 400])
  // A store failure is logged with its cause: that line must not carry a secret either.
  await h.clients.store.close()
  answers.push(await request('POST', `/clients/${id}/rotate`, {}))
  assert.equal(answers.at(-1)?.status, 500)
  assert.ok(logs.some((line) => line.includes('unhandled error')), 'the failure was logged')
  for (const secret of secrets) {
    assert.match(secret, /^pcs_/)
    for (const answer of answers) assert.ok(!answer.text.includes(secret) && !answer.text.includes(secret.slice(4)), answer.text.slice(0, 120))
    assert.ok(!logs.join('\n').includes(secret.slice(4)))
    assert.ok(!JSON.stringify(audit.records).includes(secret.slice(4)), 'no secret in an audit record')
  }
  assert.equal(audit.records.length, 2 + answers.length, 'one audit record per admin request')
})
