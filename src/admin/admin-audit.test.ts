import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startKeyService } from '../auth/key-service-fixture.ts'
import { collectingEvidenceSink } from '../audit/evidence-sink.ts'
import { createAdminTestApp } from './admin-test-app.ts'
import { adminAction, adminTarget, errorCodeOf } from './admin-audit.ts'
import type { AdminRoute } from './admin-routes.ts'

test('the action is derived from the route table: resource, then the verb', () => {
  const cases: Array<[string, string, string, string]> = [
    ['POST', '/keys', 'keys.create', 'POST /admin/v1/keys'],
    ['GET', '/keys', 'keys.list', 'GET /admin/v1/keys'],
    ['GET', '/keys/:id', 'keys.get', 'GET /admin/v1/keys/{id}'],
    ['POST', '/keys/:id/revoke', 'keys.revoke', 'POST /admin/v1/keys/{id}/revoke'],
    ['POST', '/policies/:id', 'policies.update', 'POST /admin/v1/policies/{id}'],
    ['DELETE', '/prices/:model', 'prices.delete', 'DELETE /admin/v1/prices/{model}'],
    ['POST', '/signing-keys/rotate', 'signing-keys.rotate', 'POST /admin/v1/signing-keys/rotate'],
    ['POST', '/clients/:id/revoke-tokens', 'clients.revoke-tokens', 'POST /admin/v1/clients/{id}/revoke-tokens']
  ]
  for (const [method, url, action, route] of cases) assert.deepEqual(adminAction(method, url), { action, route })
})

test('the target is the path parameter or an allowlisted id of the reply, never a secret field', () => {
  assert.equal(adminTarget({ id: 'key_abc' }, { secret: 'pk_live_x' }), 'key_abc')
  assert.equal(adminTarget({}, { id: 'key_new', secret: 'pk_live_x' }), 'key_new')
  assert.equal(adminTarget({}, { client_secret: 'pcs_x', client_id: 'cli_1' }), 'cli_1')
  assert.equal(adminTarget({}, { secret: 'pk_live_x', client_secret: 'pcs_x' }), null)
  assert.equal(adminTarget({}, { object: 'list', data: [{ id: 'key_1' }] }), null)
  assert.equal(adminTarget({ id: 'x'.repeat(129) }, undefined), 'redacted')
  assert.equal(adminTarget({ model: 'gpt-4o-mini-2024-07-18' }, undefined), 'gpt-4o-mini-2024-07-18')
  for (const pasted of ['pcl_3kTq9fY2pLmN8xWz_4bV0', 'pcs_abc', 'eyJhbGciOiJFZERTQSJ9.e30.x']) assert.equal(adminTarget({ id: pasted }, undefined), 'redacted')
})

test('the outcome code is read from the error envelope the caller received', () => {
  assert.equal(errorCodeOf(JSON.stringify({ error: { code: 'insufficient_scope' } }), 403), 'insufficient_scope')
  assert.equal(errorCodeOf('not json', 500), 'http_500')
  assert.equal(errorCodeOf(JSON.stringify({ error: { code: 'Evil\nCode' } }), 400), 'http_400')
})

async function harness (t: TestContext) {
  const bootstrap = randomBytes(32).toString('base64url')
  const f = await startKeyService(t, { bootstrapAdminKey: bootstrap })
  const audit = collectingEvidenceSink()
  let ran = 0
  const probe: AdminRoute = { method: 'POST', url: '/probe', scope: 'admin:config', async handler () { ran += 1; return { body: { ok: true } } } }
  const app = await createAdminTestApp(t, f.service, [], [probe], audit)
  const admin = await f.service.create({ name: 'admin', scopes: ['admin'] })
  const chat = await f.service.create({ name: 'chat', scopes: ['chat'] })
  const call = async (method: 'GET' | 'POST', url: string, key: string | null, payload?: object) => await app.inject({
    method, url: '/admin/v1' + url, headers: { 'x-forwarded-for': '198.51.100.1', ...(key === null ? {} : { authorization: `Bearer ${key}` }) }, ...(payload === undefined ? {} : { payload })
  })
  return { audit, admin, chat, bootstrap, call, ran: () => ran }
}

test('every admin request leaves one record: success, refusal, failed authentication, reads', async (t) => {
  const h = await harness(t)
  const created = (await h.call('POST', '/keys', h.admin.secret, { name: 'new', scopes: ['chat'] })).json() as { id: string, secret: string }
  await h.call('GET', '/keys', h.bootstrap)
  await h.call('POST', `/keys/${created.id}/revoke`, h.chat.secret, {})
  await h.call('GET', '/keys', null)
  await h.call('GET', '/keys', 'pk_wrong_' + 'a'.repeat(40))
  await h.call('GET', '/keys/key_nope', h.admin.secret)
  const shape = h.audit.records.map((r) => [r.type, r.action, r.actor, r.principal, r.target, r.outcome, r.status])
  assert.deepEqual(shape, [
    ['admin', 'keys.create', h.admin.key.id, 'api_key', created.id, 'success', 201],
    ['admin', 'keys.list', 'bootstrap_admin', 'bootstrap_admin', null, 'success', 200],
    ['admin', 'keys.revoke', h.chat.key.id, 'api_key', created.id, 'insufficient_scope', 403],
    ['admin', 'keys.list', null, null, null, 'missing_credentials', 401],
    ['admin', 'keys.list', null, null, null, 'invalid_api_key', 401],
    ['admin', 'keys.get', h.admin.key.id, 'api_key', 'key_nope', 'not_found', 404]
  ])
  const first = h.audit.records[0] ?? {}
  assert.equal(first.route, 'POST /admin/v1/keys')
  assert.equal(first.ip, '127.0.0.1', 'x-forwarded-for from an untrusted peer is not believed')
  assert.match(String(first.request_id), /\S/)
  assert.match(String(first.timestamp_utc), /^\d{4}-\d\d-\d\dT.*Z$/)
  const text = JSON.stringify(h.audit.records)
  for (const secret of [created.secret, h.admin.secret, h.chat.secret, h.bootstrap]) assert.ok(!text.includes(secret))
})

test('fail closed: while the audit sink is down, admin actions are refused with 503 before the handler runs', async (t) => {
  const h = await harness(t)
  h.audit.healthy = false
  const refused = await h.call('POST', '/probe', h.admin.secret, {})
  assert.equal(refused.statusCode, 503)
  assert.equal(refused.json().error.code, 'service_unavailable')
  assert.equal(h.ran(), 0, 'the handler never ran')
  h.audit.healthy = true
  assert.equal((await h.call('POST', '/probe', h.admin.secret, {})).statusCode, 200)
  assert.equal(h.ran(), 1)
  assert.deepEqual(h.audit.records.map((r) => [r.action, r.outcome]), [['probe.create', 'service_unavailable'], ['probe.create', 'success']])
})
