import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { startTestGateway, basicAuth, type TestGateway } from '../helpers/start-test-gateway.ts'
import { readAuditFiles, type FileRecord } from '../helpers/audit-records.ts'
import { verifyAuditLog } from '../../src/audit/audit-verifier.ts'

// Evidence of administration (issue 5, point 1–3): every admin route of the gateway's own table
// is called once, and each call must leave exactly one `type: 'admin'` record on disk.

let gw: TestGateway
const sent = new Map<string, Sent>()
/** Every secret the gateway handed out or was given: none may appear in an audit file. */
const canaries: string[] = []

interface Sent { readonly status: number, readonly code: string | null, readonly requestId: string }

async function adminCall (method: string, path: string, credential: string | null, body?: unknown): Promise<Sent & { json: any }> {
  const res = await fetch(gw.url + path, {
    method,
    headers: { ...(credential === null ? {} : { authorization: `Bearer ${credential}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const json = await res.json().catch(() => null) as any
  const result = { status: res.status, code: json?.error?.code ?? null, requestId: res.headers.get('x-request-id') ?? '', json }
  sent.set(result.requestId, result)
  return result
}

async function records (type: string): Promise<FileRecord[]> {
  await gw.gateway.audit.writer.flush()
  return (await readAuditFiles(gw.dataDir)).records.filter((r) => r.type === type)
}

before(async () => {
  gw = await startTestGateway({ logLevel: 'warn', config: { audit: { retention_days: 30 }, auth: { brute_force: { max_failures: 10_000 } } } })
  canaries.push(gw.adminKey)
})
after(async () => { await gw?.close() })

test('secrets from key and client create/rotate replies never reach an audit file', async () => {
  const key = await adminCall('POST', '/admin/v1/keys', gw.adminKey, { name: 'canary', scopes: ['chat'] })
  const rotated = await adminCall('POST', `/admin/v1/keys/${key.json.id}/rotate`, gw.adminKey, {})
  const client = await adminCall('POST', '/admin/v1/clients', gw.adminKey, { name: 'canary', scopes: ['chat'] })
  const clientRotated = await adminCall('POST', `/admin/v1/clients/${client.json.id}/rotate`, gw.adminKey, {})
  assert.deepEqual([key.status, rotated.status, client.status, clientRotated.status], [201, 200, 201, 200])
  canaries.push(key.json.secret, rotated.json.secret, client.json.client_secret, clientRotated.json.client_secret)
  // A secret pasted where the id goes is not recorded as the target.
  const pasted = await adminCall('GET', `/admin/v1/keys/${rotated.json.secret}`, gw.adminKey)
  const admin = await records('admin')
  const of = (s: Sent): FileRecord | undefined => admin.find((r) => r.request_id === s.requestId)
  assert.deepEqual([of(pasted)?.action, of(pasted)?.target], ['keys.get', 'redacted'])
  assert.equal(of(key)?.target, key.json.id, 'the created key is named by its public id')
  assert.equal(of(rotated)?.target, key.json.id)
  assert.equal(of(client)?.target, client.json.client_id)
  assert.equal(of(clientRotated)?.action, 'clients.rotate')
})

test('every admin route of the table, called once, leaves exactly one admin record with its action, actor and outcome', async () => {
  const routes = gw.gateway.adminRoutes
  assert.ok(routes.length >= 15, `${routes.length} routes`)
  const calls: Array<{ route: typeof routes[number], result: Sent }> = []
  for (const route of routes) {
    // An id that exists nowhere: the refused action must be recorded as well as a successful one.
    const path = route.url.replace(/:(\w+)/g, (_m, name: string) => `audit-probe-${name}`)
    const result = await adminCall(route.method, path, gw.adminKey, route.method === 'GET' ? undefined : {})
    calls.push({ route, result })
  }
  const admin = await records('admin')
  const outcomes = new Set<string>()
  for (const { route, result } of calls) {
    const found = admin.filter((r) => r.request_id === result.requestId)
    const name = `${route.method} ${route.url}`
    assert.equal(found.length, 1, `${name}: ${found.length} records`)
    const r = found[0] as FileRecord
    assert.equal(r.route, `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`, name)
    assert.match(String(r.action), /^[a-z-]+(\.[a-z-]+)+$/, name)
    assert.equal(r.actor, 'bootstrap_admin', name)
    assert.equal(r.principal, 'bootstrap_admin', name)
    assert.equal(r.ip, '127.0.0.1', name)
    assert.equal(r.status, result.status, name)
    assert.equal(r.outcome, result.status < 400 ? 'success' : result.code, name)
    if (route.url.includes(':')) assert.match(String(r.target), /^audit-probe-/, name)
    outcomes.add(String(r.outcome))
  }
  assert.ok(outcomes.has('success') && outcomes.size > 1, [...outcomes].join())
  const actions = new Set(calls.map(({ result }) => admin.find((r) => r.request_id === result.requestId)?.action))
  assert.equal(actions.size, calls.length, 'each route has its own action name')
  // Nothing else wrote admin records: one per admin request sent so far, in this file.
  assert.equal(admin.length, sent.size)
})

test('failed admin authentication is recorded with the address and the error, never the credential', async () => {
  const wrong = 'pk_live_' + 'x'.repeat(40)
  canaries.push(wrong)
  const missing = await adminCall('GET', '/admin/v1/keys', null)
  const invalid = await adminCall('GET', '/admin/v1/keys', wrong)
  const chat = await gw.createKey({ name: 'chat-only', scopes: ['chat'] })
  canaries.push(chat.secret)
  const underScoped = await adminCall('POST', `/admin/v1/keys/${chat.id}/revoke`, chat.secret, {})
  const admin = await records('admin')
  const of = (s: Sent): FileRecord | undefined => admin.find((r) => r.request_id === s.requestId)
  assert.deepEqual([of(missing)?.outcome, of(missing)?.actor, of(missing)?.ip, of(missing)?.status], ['missing_credentials', null, '127.0.0.1', 401])
  assert.deepEqual([of(invalid)?.outcome, of(invalid)?.actor, of(invalid)?.action], ['invalid_api_key', null, 'keys.list'])
  assert.deepEqual([of(underScoped)?.outcome, of(underScoped)?.actor, of(underScoped)?.target], ['insufficient_scope', chat.id, chat.id])
})

test('OAuth token, failed client authentication, revocation and introspection leave oauth records', async () => {
  const client = await gw.createClient({ name: 'oauth-audited', scopes: ['chat', 'models:read'] })
  canaries.push(client.secret)
  const issued = await gw.oauthPost('/oauth/token', client, { grant_type: 'client_credentials', scope: 'chat' })
  const token = (await issued.json() as { access_token: string }).access_token
  canaries.push(token)
  const jti = decodeJwt(token).jti
  const refused = await gw.oauthPost('/oauth/token', { id: client.id, secret: 'pcs_wrong_' + 'y'.repeat(30) }, { grant_type: 'client_credentials' })
  canaries.push('pcs_wrong_' + 'y'.repeat(30))
  // A secret pasted as the client id is not recorded as one.
  const pasted = await fetch(gw.url + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.secret, 'x') }, body: 'grant_type=client_credentials' })
  const introspected = await gw.oauthPost('/oauth/introspect', client, { token })
  const revoked = await gw.oauthPost('/oauth/revoke', client, { token })
  assert.deepEqual([issued.status, refused.status, pasted.status, introspected.status, revoked.status], [200, 401, 401, 200, 200])
  const oauth = await records('oauth')
  const of = (res: Response): FileRecord | undefined => oauth.find((r) => r.request_id === res.headers.get('x-request-id'))
  assert.deepEqual([of(issued)?.action, of(issued)?.actor, of(issued)?.target, of(issued)?.scopes, of(issued)?.outcome], ['oauth.token', client.id, jti, ['chat'], 'success'])
  assert.deepEqual([of(refused)?.actor, of(refused)?.outcome, of(refused)?.status, of(refused)?.ip], [client.id, 'invalid_client', 401, '127.0.0.1'])
  assert.deepEqual([of(pasted)?.actor, of(pasted)?.outcome], ['malformed', 'invalid_client'])
  assert.deepEqual([of(introspected)?.action, of(introspected)?.target], ['oauth.introspect', jti])
  assert.deepEqual([of(revoked)?.action, of(revoked)?.target, of(revoked)?.outcome], ['oauth.revoke', jti, 'success'])
})

test('no canary in any audit file, and the chain verifies', async () => {
  await gw.gateway.audit.writer.flush()
  const dir = join(gw.dataDir, 'audit')
  const files = await readdir(dir)
  assert.ok(canaries.length >= 10)
  for (const name of files) {
    const text = await readFile(join(dir, name), 'utf8')
    for (const canary of canaries) assert.ok(!text.includes(canary), `${name} holds a secret (${canary.slice(0, 6)}…)`)
  }
  const verified = await verifyAuditLog(dir, gw.gateway.audit.verifyKeys)
  assert.equal(verified.ok, true, JSON.stringify(verified.firstBad))
  assert.ok(verified.records > sent.size)
  // audit.retention_days is set: the start-up run found nothing to delete, and did not fail.
  assert.ok(!gw.logs.some((line) => line.includes('audit retention failed')), 'retention ran cleanly')
})
