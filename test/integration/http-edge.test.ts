import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

let gw: TestGateway
let key: string

before(async () => {
  gw = await startTestGateway({ config: { server: { max_body_bytes: 4096 } } })
  key = (await gw.createKey()).secret
})
after(async () => { await gw.close() })

async function post (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(gw.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers } })
}

async function assertError (res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = await res.json() as { error: Record<string, unknown> }
  assert.equal(res.status, status, JSON.stringify(body))
  assert.equal(body.error.code, code)
  assert.equal(typeof body.error.message, 'string')
  assert.ok('type' in body.error && 'param' in body.error)
  assert.match(res.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/)
  return body.error
}

const chat = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] })

test('every response carries a request id, the security headers and no fingerprinting headers', async () => {
  // Each path that writes a response: Fastify replies (health, 404, an admin answer, a proxy
  // request Fastify refused before the pipeline), and the pipeline's own sink (an answer, a
  // stream, a refusal by a stage).
  const responses = {
    health: await fetch(gw.url + '/healthz'),
    chat: await post('/v1/chat/completions', chat),
    stream: await post('/v1/chat/completions', JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] })),
    refusedByStage: await post('/v1/chat/completions', chat, { authorization: 'Bearer pcl_not-a-key' }),
    refusedByFastify: await post('/v1/chat/completions', chat, { 'content-type': 'text/plain' }),
    tooLarge: await post('/v1/chat/completions', 'x'.repeat(8192)),
    notFound: await fetch(gw.url + '/nope'),
    admin: await fetch(gw.url + '/admin/v1/keys', { headers: { authorization: `Bearer ${gw.adminKey}` } })
  }
  const ids = new Set<string>()
  for (const [name, res] of Object.entries(responses)) {
    const id = res.headers.get('x-request-id') ?? ''
    assert.match(id, /^req_[0-9a-f]{32}$/, name)
    ids.add(id)
    assert.equal(res.headers.get('server'), null, name)
    assert.equal(res.headers.get('x-powered-by'), null, name)
    assert.equal(res.headers.get('x-robots-tag'), 'noindex, nofollow', name)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', name)
    assert.equal(res.headers.get('cache-control'), 'no-store', name)
    await res.arrayBuffer()
  }
  assert.equal(ids.size, Object.keys(responses).length, 'one request id per response')
  assert.equal(responses.stream.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  assert.equal(responses.refusedByStage.status, 401)
  assert.equal(responses.refusedByFastify.status, 415)
  assert.equal(responses.tooLarge.status, 413)
  assert.equal(responses.admin.status, 200)
})

test('request ids are unique and not taken from the client', async () => {
  const a = await fetch(gw.url + '/healthz', { headers: { 'x-request-id': 'attacker-chosen' } })
  const b = await fetch(gw.url + '/healthz')
  assert.notEqual(a.headers.get('x-request-id'), 'attacker-chosen')
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'))
})

test('unknown paths are a JSON 404, wrong methods a 405 with Allow', async () => {
  await assertError(await fetch(gw.url + '/v1/nothing-here'), 404, 'not_found')
  const res = await fetch(gw.url + '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` } })
  assert.equal(res.headers.get('allow'), 'POST')
  await assertError(res, 405, 'method_not_allowed')
})

test('robots.txt disallows everything', async () => {
  const res = await fetch(gw.url + '/robots.txt')
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'User-agent: *\nDisallow: /\n')
})

test('health and readiness', async () => {
  assert.deepEqual(await (await fetch(gw.url + '/healthz')).json(), { status: 'ok' })
  const ready = await fetch(gw.url + '/readyz')
  assert.equal(ready.status, 200)
  assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok', audit: 'ok' } })
})

test('no credentials → 401 missing_credentials; credentials in the query string are never accepted', async () => {
  await assertError(await fetch(gw.url + '/v1/chat/completions', { method: 'POST', body: chat, headers: { 'content-type': 'application/json' } }), 401, 'missing_credentials')
  await assertError(await fetch(gw.url + `/v1/models?api_key=${key}&key=${key}`), 401, 'missing_credentials')
})

test('x-api-key is accepted like a bearer token', async () => {
  const res = await fetch(gw.url + '/v1/models', { headers: { 'x-api-key': key } })
  assert.equal(res.status, 200)
  await res.arrayBuffer()
})

test('a malformed key or a typo in a key is invalid_api_key', async () => {
  const typo = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a')
  for (const bad of ['nonsense', typo, key + 'x']) {
    await assertError(await fetch(gw.url + '/v1/models', { headers: { authorization: `Bearer ${bad}` } }), 401, 'invalid_api_key')
  }
})

test('duplicate JSON keys are refused: what is authorised is exactly what is sent', async () => {
  const err = await assertError(await post('/v1/chat/completions', '{"model":"mock-gpt","messages":[],"model":"gpt-4o"}'), 400, 'invalid_request')
  assert.equal(err.param, 'model')
})

test('bodies over the limit get 413, other media types 415, broken JSON 400', async () => {
  await assertError(await post('/v1/chat/completions', JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x'.repeat(5000) }] })), 413, 'request_too_large')
  await assertError(await post('/v1/chat/completions', 'model=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type')
  await assertError(await post('/v1/chat/completions', '{"model":'), 400, 'invalid_request')
})

test('missing or mistyped fields name the param', async () => {
  assert.equal((await assertError(await post('/v1/chat/completions', '{"messages":[]}'), 400, 'invalid_request')).param, 'model')
  assert.equal((await assertError(await post('/v1/chat/completions', '{"model":"mock-gpt"}'), 400, 'invalid_request')).param, 'messages')
  assert.equal((await assertError(await post('/v1/chat/completions', '{"model":"mock-gpt","messages":[],"stream":"yes"}'), 400, 'invalid_request')).param, 'stream')
  assert.equal((await assertError(await post('/v1/embeddings', '{"model":"mock-embedding"}'), 400, 'invalid_request')).param, 'input')
})

test('a key without the endpoint\'s scope gets 403 insufficient_scope', async () => {
  const embedOnly = (await gw.createKey({ scopes: ['embeddings'] })).secret
  await assertError(await post('/v1/chat/completions', chat, { authorization: `Bearer ${embedOnly}` }), 403, 'insufficient_scope')
})

test('the admin API refuses proxy keys and anonymous callers', async () => {
  await assertError(await fetch(gw.url + '/admin/v1/keys'), 401, 'missing_credentials')
  await assertError(await fetch(gw.url + '/admin/v1/keys', { headers: { authorization: `Bearer ${key}` } }), 403, 'insufficient_scope')
})
