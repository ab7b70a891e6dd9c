import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { auditRecordOf, readAuditFiles } from '../helpers/audit-records.ts'
import { verifyAuditLog } from '../../src/audit/audit-verifier.ts'

let gw: TestGateway
let key: { id: string, secret: string }

before(async () => {
  gw = await startTestGateway({ keepDataDir: true })
  key = await gw.createKey({ name: 'audited' })
})
after(async () => {
  await gw.close().catch(() => {})
  const { rm } = await import('node:fs/promises')
  await rm(gw.dataDir, { recursive: true, force: true })
})

interface Sent { status: number, requestId: string, text: string }

async function chat (secret: string | null, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'audit-test/1.0', ...(secret === null ? {} : { authorization: `Bearer ${secret}` }), ...headers },
    body: JSON.stringify(body)
  })
  return { status: res.status, requestId: res.headers.get('x-request-id') ?? '', text: await res.text() }
}

const say = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra })

test('a successful request is recorded once with every field of the contract', async () => {
  const sent = await chat(key.secret, say('hello #mock:tokens=5'))
  assert.equal(sent.status, 200, sent.text)
  const r = await auditRecordOf(gw, sent.requestId)
  assert.deepEqual(Object.keys(r).sort(), [
    'api_key_id', 'client_id', 'cost_usd', 'endpoint', 'error', 'geo', 'guards', 'ip', 'latency_ms', 'mac', 'metadata',
    'model', 'prev', 'request_id', 'seq', 'status', 'tenant', 'timestamp_utc', 'tokens_input', 'tokens_output', 'ttfb_ms',
    'type', 'upstream', 'user_agent'
  ])
  assert.equal(r.type, 'request')
  assert.equal(r.api_key_id, key.id)
  assert.equal(r.client_id, null)
  assert.equal(r.endpoint, '/v1/chat/completions')
  assert.equal(r.model, 'mock-gpt')
  assert.equal(r.upstream, 'mock')
  assert.equal(r.status, 200)
  assert.equal(r.error, null)
  assert.equal(r.tokens_output, 5)
  assert.ok(typeof r.tokens_input === 'number' && r.tokens_input > 0)
  assert.ok(typeof r.cost_usd === 'number' && r.cost_usd >= 0)
  assert.equal(r.ip, '127.0.0.1')
  assert.equal(r.geo, null)
  assert.equal(r.user_agent, 'audit-test/1.0')
  // Default guards ran and let it pass: one `allow` decision per detector, with its timing.
  assert.ok(Array.isArray(r.guards) && r.guards.length > 0 && r.guards.every((g) => (g as { action: string }).action === 'allow'), JSON.stringify(r.guards))
  assert.equal(r.metadata, null)
  assert.ok(typeof r.ttfb_ms === 'number' && typeof r.latency_ms === 'number' && r.ttfb_ms <= r.latency_ms)
  assert.ok(Math.abs(Date.parse(r.timestamp_utc as string) - Date.now()) < 60_000)
  assert.match(r.timestamp_utc as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
})

test('a streamed request is recorded with its streamed usage', async () => {
  const sent = await chat(key.secret, say('stream me #mock:tokens=7', { stream: true }))
  assert.equal(sent.status, 200)
  assert.match(sent.text, /\[DONE\]/)
  const r = await auditRecordOf(gw, sent.requestId)
  assert.equal(r.status, 200)
  assert.equal(r.error, null)
  assert.equal(r.tokens_output, 7)
  assert.equal(typeof r.ttfb_ms, 'number')
})

test('refusals at authentication, authorization and limits are recorded with their code', async () => {
  const missing = await chat(null, say('no key'))
  assert.equal(missing.status, 401)
  const r401 = await auditRecordOf(gw, missing.requestId)
  assert.equal(r401.status, 401)
  assert.equal(r401.error, 'missing_credentials')
  assert.equal(r401.api_key_id, null)

  const narrow = await gw.createKey({ models: ['other-*'] })
  const denied = await chat(narrow.secret, say('not my model'))
  assert.equal(denied.status, 403)
  const r403 = await auditRecordOf(gw, denied.requestId)
  assert.deepEqual([r403.status, r403.error, r403.api_key_id, r403.model], [403, 'model_not_allowed', narrow.id, 'mock-gpt'])

  const limited = await gw.createKey()
  const policy = await gw.admin('POST', '/admin/v1/policies', { target: { kind: 'key', id: limited.id }, requests_per_minute: 1 })
  assert.equal(policy.status, 201)
  assert.equal((await chat(limited.secret, say('first'))).status, 200)
  const second = await chat(limited.secret, say('second'))
  assert.equal(second.status, 429)
  const r429 = await auditRecordOf(gw, second.requestId)
  assert.deepEqual([r429.status, r429.error, r429.api_key_id], [429, 'rate_limit_exceeded', limited.id])
})

test('an upstream failure is recorded with the code the client got', async () => {
  const sent = await chat(key.secret, say('fail #mock:status=500'))
  assert.equal(sent.status, 502)
  const r = await auditRecordOf(gw, sent.requestId)
  assert.deepEqual([r.status, r.error, r.upstream], [502, 'upstream_error', 'mock'])
})

test('a client that aborts a stream is recorded as client_closed (499)', async () => {
  const requestId = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(gw.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' }
    }, (res) => {
      res.once('data', () => { req.destroy(); resolve(String(res.headers['x-request-id'])) })
    })
    req.on('error', () => {})
    req.once('error', reject)
    req.end(JSON.stringify(say('long #mock:tokens=200 #mock:interval=20', { stream: true })))
  })
  const r = await auditRecordOf(gw, requestId)
  assert.equal(r.status, 499)
  assert.equal(r.error, 'client_closed')
  assert.ok((r.tokens_output as number) < 200, `tokens_output ${String(r.tokens_output)}`)
})

test('proxy requests refused before the pipeline are recorded; unknown paths are not', async () => {
  const big = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(say('x'.repeat(2 * 1024 * 1024)))
  })
  assert.equal(big.status, 413)
  const r413 = await auditRecordOf(gw, big.headers.get('x-request-id') ?? '')
  assert.deepEqual([r413.status, r413.error, r413.endpoint, r413.ip], [413, 'request_too_large', '/v1/chat/completions', '127.0.0.1'])

  const text = await fetch(gw.url + '/v1/embeddings', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' })
  assert.equal(text.status, 415)
  const r415 = await auditRecordOf(gw, text.headers.get('x-request-id') ?? '')
  assert.deepEqual([r415.status, r415.error, r415.endpoint], [415, 'unsupported_media_type', '/v1/embeddings'])

  const wrongMethod = await fetch(gw.url + '/v1/models', { method: 'DELETE' })
  assert.equal(wrongMethod.status, 405)
  const r405 = await auditRecordOf(gw, wrongMethod.headers.get('x-request-id') ?? '')
  assert.equal(r405.error, 'method_not_allowed')

  const unknown = await fetch(gw.url + '/v1/nothing-here', { method: 'POST' })
  assert.equal(unknown.status, 404)
  await assert.rejects(auditRecordOf(gw, unknown.headers.get('x-request-id') ?? '', 300), /no audit record/)
})

test('no secret reaches the audit file, and the chain verifies after close', async () => {
  await gw.close()
  const { lines, records } = await readAuditFiles(gw.dataDir)
  const text = lines.join('\n')
  assert.ok(!text.includes(key.secret), 'the API key secret is in the audit log')
  assert.ok(!text.includes(gw.adminKey), 'the admin key is in the audit log')
  assert.ok(records.length >= 10)
  const result = await verifyAuditLog(`${gw.dataDir}/audit`, gw.gateway.audit.verifyKeys)
  assert.equal(result.ok, true, JSON.stringify(result.firstBad))
  assert.equal(result.records, records.length)
  assert.ok(result.checkpoints >= 1, 'close() signs a final checkpoint')
})
