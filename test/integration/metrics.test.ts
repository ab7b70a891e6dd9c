import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startMockUpstream, type MockUpstream } from '../../src/upstream/mock/mock-upstream-server.ts'
import { parsePrometheusText, samplesOf, sumOf, type PromSample } from '../../src/observability/prometheus-text-fixture.ts'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// GET /metrics through the real HTTP surface: who may read it, what a scraper sees after known
// traffic, and that no secret ever reaches it. The upstream is the mock as a separate HTTP server
// that demands our provider key; a second one demands another key, so its 401 (which echoes the
// key it received, as OpenAI does) is a real upstream failure carrying a secret.
const providerKey = 'sk-provider-canary-' + randomBytes(12).toString('hex')
let up: MockUpstream
let strict: MockUpstream
let gw: TestGateway
let reader: { id: string, secret: string }
let caller: { id: string, secret: string }

before(async () => {
  up = await startMockUpstream({ apiKey: providerKey })
  strict = await startMockUpstream({ apiKey: 'sk-some-other-key' })
  gw = await startTestGateway({
    logLevel: 'warn',
    env: { UP_KEY: providerKey },
    config: {
      upstreams: [
        { name: 'up', type: 'openai', base_url: up.url, api_key: { env: 'UP_KEY' } },
        { name: 'strict', type: 'openai', base_url: strict.url, api_key: { env: 'UP_KEY' } }
      ],
      models: [{ name: 'mock-gpt', upstream: 'up' }, { name: 'mock-*', upstream: 'up' }, { name: 'strict-model', upstream: 'strict' }],
      prices: [{ model: 'mock-*', input_per_million_usd: 1000, output_per_million_usd: 1000 }],
      limits: { usage_flush_ms: 100 }
    }
  })
  reader = await gw.createKey({ name: 'prometheus', scopes: ['metrics:read'] })
  caller = await gw.createKey()
})
after(async () => {
  await gw.close()
  await up.close()
  await strict.close()
})

async function scrape (url: string, headers: Record<string, string> = {}): Promise<{ status: number, type: string | null, text: string }> {
  const res = await fetch(url + '/metrics', { headers })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

async function metricsNow (): Promise<PromSample[]> {
  const res = await scrape(gw.url, { authorization: `Bearer ${reader.secret}` })
  assert.equal(res.status, 200, res.text)
  return parsePrometheusText(res.text)
}

async function chat (secret: string, body: Record<string, unknown>): Promise<{ status: number, text: string }> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello there' }], ...body })
  })
  return { status: res.status, text: await res.text() }
}

/** Cost the usage API reports for these keys, once `requests` requests are flushed (every 100 ms here). */
async function settledCost (keyIds: readonly string[], requests: number): Promise<number> {
  const deadline = Date.now() + 5_000
  for (;;) {
    let seen = 0
    let cost = 0
    for (const id of keyIds) {
      const res = await gw.admin('GET', `/admin/v1/usage?key=${id}&group_by=key`)
      const totals = (await res.json() as { totals: { requests: number, cost_usd: number } }).totals
      seen += totals.requests
      cost += totals.cost_usd
    }
    if (seen >= requests || Date.now() > deadline) return cost
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function errorCode (text: string): string | undefined {
  return (JSON.parse(text) as { error?: { code?: string } }).error?.code
}

test('/metrics refuses without credentials (401), with a key lacking metrics:read or bound to a tenant (403)', async () => {
  const none = await scrape(gw.url)
  assert.equal(none.status, 401)
  assert.equal(errorCode(none.text), 'missing_credentials')
  const wrong = await scrape(gw.url, { authorization: 'Bearer pk_live_notarealkey' })
  assert.equal(wrong.status, 401)
  assert.equal(errorCode(wrong.text), 'invalid_api_key')
  const proxyOnly = await scrape(gw.url, { authorization: `Bearer ${caller.secret}` })
  assert.equal(proxyOnly.status, 403)
  assert.equal(errorCode(proxyOnly.text), 'insufficient_scope')
  const tenantReader = await gw.createKey({ name: 'tenant-prometheus', scopes: ['metrics:read'], tenant: 'acme' })
  const tenant = await scrape(gw.url, { authorization: `Bearer ${tenantReader.secret}` })
  assert.equal(tenant.status, 403)
  assert.equal(errorCode(tenant.text), 'forbidden')
  for (const res of [none, wrong, proxyOnly, tenant]) assert.doesNotMatch(res.text, /portcullis_|gen_ai_/)
  const post = await fetch(gw.url + '/metrics', { method: 'POST', headers: { authorization: `Bearer ${reader.secret}` } })
  assert.equal(post.status, 405)
  assert.equal(post.headers.get('allow'), 'GET')
})

test('/metrics answers a metrics:read key (and an admin) in the Prometheus text format', async () => {
  const res = await scrape(gw.url, { authorization: `Bearer ${reader.secret}` })
  assert.equal(res.status, 200)
  assert.equal(res.type, 'text/plain; version=0.0.4; charset=utf-8')
  assert.match(res.text, /^# TYPE portcullis_requests_total counter$/m)
  assert.match(res.text, /^# TYPE gen_ai_client_token_usage histogram$/m)
  const admin = await scrape(gw.url, { authorization: `Bearer ${gw.adminKey}` })
  assert.equal(admin.status, 200)
})

test('after a success, a 401, a rate-limit and a budget 429, a stream and an upstream failure the series show each outcome', async () => {
  const before = await metricsNow()
  const limited = await gw.createKey()
  const policy = await gw.admin('POST', '/admin/v1/policies', { target: { kind: 'key', id: limited.id }, requests_per_minute: 1 })
  assert.equal(policy.status, 201, await policy.text())

  assert.equal((await chat(caller.secret, { model: 'mock-gpt' })).status, 200)
  const unauthenticated = await chat('pk_live_wrong', { model: 'mock-gpt' })
  assert.equal(unauthenticated.status, 401)
  assert.equal((await chat(limited.secret, { model: 'mock-gpt' })).status, 200)
  const refused = await chat(limited.secret, { model: 'mock-gpt' })
  assert.equal(refused.status, 429)
  assert.equal(errorCode(refused.text), 'rate_limit_exceeded')
  const streamed = await chat(caller.secret, { model: 'mock-gpt', stream: true })
  assert.equal(streamed.status, 200)
  assert.match(streamed.text, /data: \[DONE\]/)
  assert.equal((await chat(caller.secret, { model: 'mock-invented-by-caller' })).status, 200)
  const broke = await gw.createKey()
  const budget = await gw.admin('POST', '/admin/v1/policies', { target: { kind: 'key', id: broke.id }, budget_usd: 0.000001, budget_period: 'daily' })
  assert.equal(budget.status, 201, await budget.text())
  const overBudget = await chat(broke.secret, { model: 'mock-gpt' })
  assert.equal(overBudget.status, 429)
  assert.equal(errorCode(overBudget.text), 'budget_exceeded')
  const failed = await chat(caller.secret, { model: 'strict-model' })
  assert.equal(failed.status, 502)
  assert.equal(errorCode(failed.text), 'upstream_error')

  const after = await metricsNow()
  const delta = (name: string, labels: Record<string, string>): number => sumOf(after, name, labels) - sumOf(before, name, labels)
  const requests = 'portcullis_requests_total'
  const chatOk = { endpoint: 'chat.completions', status: '200', model: 'mock-gpt', error: '' }
  assert.equal(delta(requests, chatOk), 3, 'two JSON answers and one stream')
  assert.equal(delta(requests, { status: '401', model: '', error: 'invalid_api_key' }), 1)
  assert.equal(delta(requests, { status: '429', model: 'mock-gpt', error: 'rate_limit_exceeded' }), 1)
  assert.equal(delta(requests, { status: '200', model: 'mock-*' }), 1, 'a prefix route reports its pattern')
  assert.equal(delta(requests, { status: '502', model: 'other', error: 'upstream_error' }), 0)
  assert.equal(delta(requests, { status: '502', model: 'strict-model', error: 'upstream_error' }), 1)
  assert.equal(samplesOf(after, requests, { model: 'mock-invented-by-caller' }).length, 0)
  assert.equal(delta('portcullis_limit_refusals_total', { kind: 'requests' }), 1)
  assert.equal(delta('portcullis_limit_refusals_total', { kind: 'budget' }), 1)
  assert.equal(delta(requests, { status: '429', error: 'budget_exceeded' }), 1)
  assert.equal(delta('portcullis_upstream_errors_total', { upstream: 'strict', code: 'upstream_error' }), 1)

  const genAi = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'mock-gpt' }
  assert.equal(delta('gen_ai_server_time_to_first_token_seconds_count', genAi), 1, 'time to first token: streams only')
  assert.equal(delta('gen_ai_server_request_duration_seconds_count', { ...genAi, error_type: '' }), 3)
  assert.equal(delta('gen_ai_client_operation_duration_seconds_count', { ...genAi, error_type: '' }), 3)
  assert.equal(delta('gen_ai_client_operation_duration_seconds_count', { gen_ai_request_model: 'strict-model', error_type: 'upstream_error' }), 1)
  assert.equal(delta('gen_ai_client_token_usage_count', { ...genAi, gen_ai_token_type: 'input' }), 3)
  assert.equal(delta('gen_ai_client_token_usage_count', { ...genAi, gen_ai_token_type: 'output' }), 3)
  assert.ok(delta('gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'output' }) > 0)
  assert.equal(delta('portcullis_gateway_overhead_seconds_count', { endpoint: 'chat.completions' }), 5, 'every forwarded request')
  // Cost is what the limits stage settled (the same numbers the usage API shows), by model.
  const billed = await settledCost([caller.id, limited.id], 4)
  const cost = delta('portcullis_cost_usd_total', { model: 'mock-gpt' }) + delta('portcullis_cost_usd_total', { model: 'mock-*' })
  assert.ok(cost > 0)
  assert.ok(Math.abs(cost - billed) < 1e-9, `metrics ${cost} USD, usage API ${billed} USD`)
  // Overhead is part of the whole: never more than the request's duration.
  assert.ok(delta('portcullis_gateway_overhead_seconds_sum', { endpoint: 'chat.completions' }) <= delta('gen_ai_server_request_duration_seconds_sum', {}) + 1e-9)
  assert.ok(sumOf(after, 'portcullis_audit_queue_depth') >= 0)
  assert.equal(samplesOf(after, 'portcullis_audit_write_failures_total').length, 1)
})

test('no secret reaches /metrics: API keys, the provider key, the admin key, canaries sent as credentials or models', async () => {
  const canaryCredential = 'pk_live_canary' + randomBytes(16).toString('hex')
  const canaryModel = 'canary-model-' + randomBytes(8).toString('hex')
  await chat(canaryCredential, { model: canaryModel })
  await chat(caller.secret, { model: canaryModel })
  await chat(caller.secret, { model: 'mock-' + canaryModel })
  await chat(caller.secret, { model: 'strict-model' })
  await fetch(gw.url + '/metrics', { headers: { 'x-api-key': canaryCredential } })
  const text = (await scrape(gw.url, { authorization: `Bearer ${reader.secret}` })).text
  const canaries = [providerKey, gw.adminKey, caller.secret, reader.secret, canaryCredential, canaryModel]
  for (const secret of canaries) {
    assert.equal(text.includes(secret), false, 'a planted secret reached /metrics')
    // Nor any recognisable piece of it.
    assert.equal(text.includes(secret.slice(-16)), false)
  }
  assert.doesNotMatch(text, /sk-provider|pk_live_|adm_/)
})

test('a separate metrics listener serves /metrics without credentials and nothing else', async () => {
  const other = await startTestGateway({ logLevel: 'warn', config: { metrics: { listen: { host: '127.0.0.1', port: 0 } } } })
  try {
    const url = other.gateway.metricsUrl
    assert.ok(url !== null && url !== other.url)
    const res = await scrape(url)
    assert.equal(res.status, 200)
    assert.match(res.text, /^# TYPE portcullis_requests_total counter$/m)
    assert.equal((await scrape(other.url)).status, 401, 'the main port still wants a credential')
    const missing = await fetch(url + '/v1/models')
    assert.equal(missing.status, 404)
    assert.equal(errorCode(await missing.text()), 'not_found')
    assert.match(missing.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/)
    // The listener's answers carry the same security headers as the main port's.
    const direct = await fetch(url + '/metrics')
    await direct.arrayBuffer()
    for (const answer of [missing, direct]) {
      assert.match(answer.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(answer.headers.get('x-robots-tag'), 'noindex, nofollow')
    }
    const post = await fetch(url + '/metrics', { method: 'POST' })
    assert.equal(post.status, 405)
  } finally {
    await other.close()
  }
})

test('metrics.enabled: false serves no /metrics', async () => {
  const off = await startTestGateway({ logLevel: 'warn', config: { metrics: { enabled: false } } })
  try {
    const res = await scrape(off.url, { authorization: `Bearer ${off.adminKey}` })
    assert.equal(res.status, 404)
    assert.equal(errorCode(res.text), 'not_found')
    assert.equal(off.gateway.metrics.registry, null)
  } finally {
    await off.close()
  }
})
