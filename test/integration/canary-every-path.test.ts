import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { readFile, readlink, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startMockUpstream, type MockUpstream } from '../../src/upstream/mock/mock-upstream-server.ts'
import { basicAuth, startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { generateSigningKey, startTestIdentityProvider, type SigningKey, type TestIdentityProvider } from '../helpers/test-identity-provider.ts'
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.ts'
import { createExchangeRecorder, type Exchange, type ExchangeRecorder } from '../helpers/exchange-recorder.ts'
import { canariesIn, findCanaries, type Canary } from '../helpers/canary-search.ts'
import { dataDirText, planted, tamper } from '../helpers/canary-fixture.ts'
import { startGatewayProcess } from '../helpers/start-gateway-process.ts'

// Issue 5, logs: planted secrets — provider keys, API keys, OAuth client secrets, access tokens
// (ours and a trusted issuer's), the bootstrap admin key, the master key — go through every path
// of one in-process gateway logging at `trace` (success, each error, hostile upstreams that echo
// the key, malformed HTTP, an internal error, shutdown). Then none may appear, in any encoding, in
// a log line, a file of the data dir (audit segments, checkpoints, the store), `/metrics`, or any
// answer — except the answers whose purpose is to show a secret once, which must show it.
// A real gateway process covers what only a process has: stdout/stderr, crashes, signals and
// start-up failures.

const canaries: Canary[] = []
const plant = planted(canaries)
const providerKey = plant('provider key', 'sk-canary-prov-' + randomBytes(20).toString('hex'))
const wrongProviderKey = plant('wrong provider key', 'sk-canary-wrong-' + randomBytes(20).toString('hex'))
// Shaped like a Groq key: a plain identifier, so it looks like a field path in an error `param`.
const hostileKey = plant('hostile upstream key', 'gsk_Canary' + randomBytes(22).toString('hex'))
const masterKey = plant('master key', randomBytes(32).toString('base64'))
const AUDIENCE = 'portcullis-canary'

let mock: MockUpstream
let hostile: HostileUpstream
let idp: TestIdentityProvider
let idpKey: SigningKey
let gw: TestGateway
let rec: ExchangeRecorder
let main: { id: string, secret: string }
let client: { id: string, secret: string }
let accessToken = ''

before(async () => {
  mock = await startMockUpstream({ apiKey: providerKey })
  hostile = await startHostileUpstream()
  idpKey = await generateSigningKey('ES256')
  idp = await startTestIdentityProvider({ realm: 'canary', keys: [idpKey] })
  gw = await startTestGateway({
    logLevel: 'trace',
    keepDataDir: true,
    env: { CANARY_PROVIDER_KEY: providerKey, CANARY_WRONG_KEY: wrongProviderKey, CANARY_HOSTILE_KEY: hostileKey, PORTCULLIS_MASTER_KEY: masterKey },
    config: {
      server: { trusted_proxies: ['127.0.0.1/32'], max_body_bytes: 65_536, shutdown_timeout_ms: 5_000 },
      auth: { brute_force: { max_failures: 100_000 } },
      upstreams: [
        { name: 'mock', type: 'openai', base_url: mock.url, api_key: { env: 'CANARY_PROVIDER_KEY' } },
        // The mock demands the real key: this one's 401 echoes the wrong key, as OpenAI's does.
        { name: 'wrong', type: 'openai', base_url: mock.url, api_key: { env: 'CANARY_WRONG_KEY' } },
        { name: 'hostile', type: 'openai', base_url: hostile.url, api_key: { env: 'CANARY_HOSTILE_KEY' }, timeouts: { headers_ms: 400, idle_ms: 400 } }
      ],
      models: [{ name: 'mock-*', upstream: 'mock' }, { name: 'wrong-model', upstream: 'wrong' }, { name: 'hostile-*', upstream: 'hostile' }],
      prices: [{ model: 'mock-*', input_per_million_usd: 1000, output_per_million_usd: 1000 }],
      trusted_issuers: [{ issuer: idp.issuer, audience: AUDIENCE, jwks_uri: idp.jwksUri, algorithms: ['ES256'] }]
    }
  })
  plant('admin key', gw.adminKey)
  rec = createExchangeRecorder(gw.url)
  main = await createKey('main', {})
  client = await createClient('main')
})
after(async () => {
  await gw?.close().catch(() => {})
  if (gw !== undefined) await rm(gw.dataDir, { recursive: true, force: true })
  await mock?.close()
  await hostile?.close()
  await idp?.close()
})

function headers (credential: string | null, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', ...(credential === null ? {} : { authorization: `Bearer ${credential}` }), ...extra }
}

function chat (credential: string | null, model: string, extra: Record<string, unknown> = {}, extraHeaders: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: headers(credential, extraHeaders), body: JSON.stringify({ model, messages: [{ role: 'user', content: 'canary run' }], ...extra }) }
}

/** Sends and checks the status and error code, so every path is known to have been taken. */
async function expect (label: string, path: string, init: RequestInit, status: number, code?: string): Promise<Exchange & { json: any }> {
  const ex = await rec.send(label, path, init)
  assert.equal(ex.status, status, `${label}: ${ex.body.slice(0, 300)}`)
  if (code !== undefined) assert.equal(ex.json?.error?.code ?? ex.json?.error, code, label)
  return ex
}

async function admin (label: string, method: string, path: string, body?: unknown, status = 200): Promise<Exchange & { json: any }> {
  return await expect(label, path, { method, headers: headers(gw.adminKey), body: body === undefined ? undefined : JSON.stringify(body) }, status)
}

/** Creates a key through the admin API; its reply is the one answer allowed to show the secret. */
async function createKey (name: string, body: Record<string, unknown>): Promise<{ id: string, secret: string }> {
  const ex = await admin(`create key ${name}`, 'POST', '/admin/v1/keys', { name, scopes: ['chat', 'completions', 'embeddings', 'models:read'], ...body }, 201)
  show(ex, `api key ${name}`, ex.json.secret, ex.json.secret.slice(25, 55))
  return { id: ex.json.id, secret: ex.json.secret }
}

async function createClient (name: string): Promise<{ id: string, secret: string }> {
  const ex = await admin(`create client ${name}`, 'POST', '/admin/v1/clients', { name, scopes: ['chat', 'models:read'] }, 201)
  show(ex, `client secret ${name}`, ex.json.client_secret, ex.json.client_secret.slice(8, 40))
  return { id: ex.json.client_id, secret: ex.json.client_secret }
}

/** A token response shows its access token; it is planted from then on. */
function plantToken (ex: Exchange & { json: any }, name: string): string {
  const token = ex.json.access_token as string
  return show(ex, name, token, token.split('.')[2]?.slice(8, 40))
}

/** Plants a secret that `ex` exists to show (once): the search requires it there and nowhere else. */
function show (ex: Exchange, name: string, value: string, fragment?: string): string {
  plant(name, value, fragment)
  ex.shows.push(name)
  return value
}

function form (fields: Record<string, string>, extra: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: new URLSearchParams(fields) }
}

test('success: JSON, streaming, embeddings, models, with an API key, x-api-key, our JWT and a trusted issuer token', async () => {
  await expect('chat json', '/v1/chat/completions', chat(main.secret, 'mock-gpt'), 200)
  const streamed = await expect('chat stream', '/v1/chat/completions', chat(main.secret, 'mock-gpt', { stream: true, stream_options: { include_usage: true } }), 200)
  assert.match(streamed.body, /data: \[DONE\]/)
  await expect('embeddings', '/v1/embeddings', { method: 'POST', headers: headers(main.secret), body: JSON.stringify({ model: 'mock-embed', input: 'x' }) }, 200)
  await expect('models via x-api-key', '/v1/models', { headers: { 'x-api-key': main.secret } }, 200)
  const token = await expect('oauth token (basic)', '/oauth/token', form({ grant_type: 'client_credentials' }, { authorization: basicAuth(client.id, client.secret) }), 200)
  accessToken = plantToken(token, 'access token')
  await expect('chat with access token', '/v1/chat/completions', chat(accessToken, 'mock-gpt', { stream: true }), 200)
  const now = Math.floor(Date.now() / 1000)
  const external = plant('trusted issuer token', await idp.sign(idpKey, { iss: idp.issuer, aud: AUDIENCE, sub: 'alice', client_id: 'portal', scope: 'chat', iat: now, exp: now + 300, jti: randomUUID() }))
  await expect('chat with trusted issuer token', '/v1/chat/completions', chat(external, 'mock-gpt'), 200)
})

test('every authentication failure: missing, invalid, revoked, expired, tampered and wrong-audience tokens', async () => {
  await expect('missing', '/v1/chat/completions', chat(null, 'mock-gpt'), 401, 'missing_credentials')
  const nearMiss = plant('near-miss api key', tamper(main.secret, 30))
  await expect('invalid key', '/v1/chat/completions', chat(nearMiss, 'mock-gpt'), 401, 'invalid_api_key')
  await expect('provider key as a client key', '/v1/models', { headers: { authorization: `Bearer ${providerKey}` } }, 401)
  await expect('master key as x-api-key', '/v1/models', { headers: { 'x-api-key': masterKey } }, 401)
  const revoked = await createKey('revoked', {})
  await admin('revoke key', 'POST', `/admin/v1/keys/${revoked.id}/revoke`)
  await expect('revoked key', '/v1/chat/completions', chat(revoked.secret, 'mock-gpt'), 401, 'revoked_credentials')
  const rotating = await createKey('rotating', {})
  const rotated = await admin('rotate key', 'POST', `/admin/v1/keys/${rotating.id}/rotate`, { grace_period_seconds: 0 })
  show(rotated, 'api key rotated', rotated.json.secret, rotated.json.secret.slice(25, 55))
  await expect('rotated-out key', '/v1/chat/completions', chat(rotating.secret, 'mock-gpt'), 401, 'expired_credentials')
  const expiring = await createKey('expiring', { expires_in: 1 })
  await sleep(1_100)
  await expect('expired key', '/v1/chat/completions', chat(expiring.secret, 'mock-gpt'), 401, 'expired_credentials')
  const tampered = plant('tampered access token', tamper(accessToken, accessToken.length - 20))
  await expect('tampered jwt', '/v1/chat/completions', chat(tampered, 'mock-gpt'), 401, 'invalid_token')
  const now = Math.floor(Date.now() / 1000)
  const wrongAud = plant('wrong-audience token', await idp.sign(idpKey, { iss: idp.issuer, aud: 'someone-else', sub: 'alice', scope: 'chat', iat: now, exp: now + 300 }))
  await expect('wrong audience', '/v1/chat/completions', chat(wrongAud, 'mock-gpt'), 401, 'invalid_token')
  const expired = plant('expired issuer token', await idp.sign(idpKey, { iss: idp.issuer, aud: AUDIENCE, sub: 'alice', scope: 'chat', iat: now - 900, exp: now - 600 }))
  await expect('expired token', '/v1/chat/completions', chat(expired, 'mock-gpt'), 401, 'invalid_token')
})

test('authorization, request, size and limit errors', async () => {
  const scoped = await createKey('models-only', { scopes: ['models:read'] })
  await expect('insufficient scope', '/v1/chat/completions', chat(scoped.secret, 'mock-gpt'), 403, 'insufficient_scope')
  const pinned = await createKey('pinned', { models: ['mock-gpt'] })
  await expect('model not allowed', '/v1/chat/completions', chat(pinned.secret, 'mock-other'), 403, 'model_not_allowed')
  const fenced = await createKey('fenced', { allowed_ips: ['203.0.113.0/24'] })
  await expect('ip not allowed', '/v1/chat/completions', chat(fenced.secret, 'mock-gpt', {}, { 'x-forwarded-for': `${fenced.secret}, 198.51.100.7` }), 403, 'ip_not_allowed')
  await expect('model not found', '/v1/chat/completions', chat(main.secret, 'no-such-model'), 404, 'model_not_found')
  await expect('bad json with a canary', '/v1/chat/completions', { method: 'POST', headers: headers(main.secret), body: `{"model":"mock-gpt","messages":[{"role":"user","content":"${providerKey}"` }, 400, 'invalid_request')
  await expect('bad metadata header with a canary', '/v1/chat/completions', chat(main.secret, 'mock-gpt', {}, { 'x-portcullis-metadata': `{"token":"${main.secret}"` }), 400, 'invalid_request')
  await expect('oversized metadata with a canary', '/v1/chat/completions', chat(main.secret, 'mock-gpt', {}, { 'x-portcullis-metadata': JSON.stringify({ a: main.secret.repeat(30) }) }), 400, 'invalid_request')
  const big = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: `${main.secret} `.repeat(2_000) }] })
  await expect('request too large', '/v1/chat/completions', { method: 'POST', headers: headers(main.secret), body: big }, 413, 'request_too_large')
  const limited = await createKey('limited', {})
  await admin('rpm policy', 'POST', '/admin/v1/policies', { target: { kind: 'key', id: limited.id }, requests_per_minute: 1 }, 201)
  await expect('first within the limit', '/v1/chat/completions', chat(limited.secret, 'mock-gpt'), 200)
  await expect('rate limited', '/v1/chat/completions', chat(limited.secret, 'mock-gpt'), 429, 'rate_limit_exceeded')
  const broke = await createKey('broke', {})
  await admin('budget policy', 'POST', '/admin/v1/policies', { target: { kind: 'key', id: broke.id }, budget_usd: 0.000001, budget_period: 'daily' }, 201)
  await expect('over budget', '/v1/chat/completions', chat(broke.secret, 'mock-gpt'), 429, 'budget_exceeded')
})

test('upstream failures, including upstreams that echo the provider key', async () => {
  await expect('upstream 401 echoing the wrong key', '/v1/chat/completions', chat(main.secret, 'wrong-model'), 502, 'upstream_error')
  await expect('echo 500', '/v1/chat/completions', chat(main.secret, 'hostile-echo-500'), 502, 'upstream_error')
  await expect('echo 401', '/v1/chat/completions', chat(main.secret, 'hostile-echo-401'), 502, 'upstream_error')
  await expect('echo 429', '/v1/chat/completions', chat(main.secret, 'hostile-echo-429'), 429, 'rate_limit_exceeded')
  const echo400 = await expect('echo 400 with the key as param', '/v1/chat/completions', chat(main.secret, 'hostile-echo-400'), 400, 'invalid_request')
  assert.equal(echo400.json.error.param, null, 'a param holding the provider key is dropped')
  await expect('echo 200 json', '/v1/chat/completions', chat(main.secret, 'hostile-echo-200'), 502, 'upstream_error')
  const stream = await expect('echo 200 stream', '/v1/chat/completions', chat(main.secret, 'hostile-echo-stream', { stream: true }), 200)
  assert.match(stream.body, /"code":"upstream_error"/)
  await expect('garbage json', '/v1/chat/completions', chat(main.secret, 'hostile-garbage-200'), 502, 'upstream_error')
  const garbage = await expect('garbage stream', '/v1/chat/completions', chat(main.secret, 'hostile-garbage-stream', { stream: true }), 200)
  assert.match(garbage.body, /"code":"upstream_error"/)
  await expect('headers timeout', '/v1/chat/completions', chat(main.secret, 'hostile-hang'), 504, 'upstream_timeout')
  const stalled = await expect('stalled stream', '/v1/chat/completions', chat(main.secret, 'hostile-stall-mid-stream', { stream: true }), 200)
  assert.match(stalled.body, /"code":"upstream_timeout"/)
  await expect('cut before head', '/v1/chat/completions', chat(main.secret, 'hostile-cut-before-head'), 502, 'upstream_error')
  const cut = await expect('cut mid-stream', '/v1/chat/completions', chat(main.secret, 'hostile-cut-mid-stream', { stream: true }), 200)
  assert.match(cut.body, /"code":"upstream_error"/)
  // A client that walks away mid-stream.
  const controller = new AbortController()
  const res = await fetch(gw.url + '/v1/chat/completions', { ...chat(main.secret, 'mock-gpt', { stream: true, messages: [{ role: 'user', content: '#mock:interval=50 #mock:tokens=40' }] }), signal: controller.signal })
  await res.body?.getReader().read()
  controller.abort()
  // The upstream saw the provider key it was configured with, never a caller's credential.
  const upstreamSaw = hostile.received.map((h) => JSON.stringify(h)).join('\n')
  assert.ok(canariesIn(upstreamSaw, canaries).has('hostile upstream key'), 'the hostile upstream received its key (the echo is real)')
  assert.deepEqual([...canariesIn(upstreamSaw, canaries)], ['hostile upstream key'], 'no caller credential reached the upstream')
})

test('admin API: keys and clients created, listed, rotated, revoked; refused credentials and bodies', async () => {
  await admin('list keys', 'GET', '/admin/v1/keys')
  await admin('get key', 'GET', `/admin/v1/keys/${main.id}`)
  await admin('secret pasted as an id', 'GET', `/admin/v1/keys/${main.secret}`, undefined, 404)
  await expect('admin with a proxy key', '/admin/v1/keys', { headers: headers(main.secret) }, 403, 'insufficient_scope')
  plant('near-miss admin key', tamper(gw.adminKey, 20))
  await expect('admin with a near-miss admin key', '/admin/v1/keys', { headers: headers(tamper(gw.adminKey, 20)) }, 401)
  await expect('admin body not JSON', '/admin/v1/keys', { method: 'POST', headers: headers(gw.adminKey), body: `{"name":"${providerKey}"` }, 400, 'invalid_request')
  const other = await createClient('rotated')
  const rotated = await admin('rotate client', 'POST', `/admin/v1/clients/${other.id}/rotate`, { grace_period_seconds: 0 })
  show(rotated, 'client secret rotated (new)', rotated.json.client_secret, rotated.json.client_secret.slice(8, 40))
  await admin('list clients', 'GET', '/admin/v1/clients')
  await admin('get client', 'GET', `/admin/v1/clients/${other.id}`)
  await admin('audit search', 'GET', '/admin/v1/audit?limit=200')
  await admin('usage', 'GET', '/admin/v1/usage')
})

test('OAuth: token, introspect, revoke with the secret in Basic and in the body; failures', async () => {
  const post = await expect('oauth token (post)', '/oauth/token', form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }), 200)
  const second = plantToken(post, 'access token (post)')
  const wrong = plant('near-miss client secret', tamper(client.secret, 20))
  await expect('token with a wrong secret (basic)', '/oauth/token', form({ grant_type: 'client_credentials' }, { authorization: basicAuth(client.id, wrong) }), 401, 'invalid_client')
  await expect('token with a wrong secret (body)', '/oauth/token', form({ grant_type: 'client_credentials', client_id: client.id, client_secret: wrong }), 401, 'invalid_client')
  await expect('token with both methods', '/oauth/token', form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }, { authorization: basicAuth(client.id, client.secret) }), 400, 'invalid_request')
  await expect('token with a JSON body', '/oauth/token', { method: 'POST', headers: headers(null), body: JSON.stringify({ client_secret: client.secret }) }, 400, 'invalid_request')
  await expect('secret in the query string', `/oauth/token?client_id=${client.id}&client_secret=${client.secret}`, form({ grant_type: 'client_credentials' }), 401, 'invalid_client')
  const active = await expect('introspect (basic)', '/oauth/introspect', form({ token: accessToken }, { authorization: basicAuth(client.id, client.secret) }), 200)
  assert.equal(active.json.active, true)
  await expect('introspect a tampered token (body)', '/oauth/introspect', form({ token: tamper(accessToken, accessToken.length - 20), client_id: client.id, client_secret: client.secret }), 200)
  await expect('revoke (body)', '/oauth/revoke', form({ token: second, client_id: client.id, client_secret: client.secret }), 200)
  await expect('revoked token', '/v1/chat/completions', chat(second, 'mock-gpt'), 401, 'invalid_token')
})

test('credentials in the query string, the URL path and client headers are refused and not recorded', async () => {
  await expect('api_key query on chat', `/v1/chat/completions?api_key=${main.secret}`, chat(null, 'mock-gpt'), 401, 'missing_credentials')
  await expect('key query on models', `/v1/models?key=${main.secret}&access_token=${accessToken}`, {}, 401, 'missing_credentials')
  await expect('admin key in the query', `/admin/v1/keys?api_key=${gw.adminKey}`, {}, 401, 'missing_credentials')
  await expect('secret in the path', `/v1/${main.secret}`, { headers: headers(main.secret) }, 404, 'not_found')
  await expect('token in the path', `/${accessToken}/v1/models`, {}, 404, 'not_found')
  const tagged = chat(main.secret, 'mock-gpt', {}, {
    'user-agent': `curl/8 ${main.secret}`,
    'x-forwarded-for': `${providerKey}, 127.0.0.1`,
    'x-portcullis-metadata': JSON.stringify({ team: 'canary', note: main.secret.slice(0, 60) })
  })
  await expect('canaries in user-agent, x-forwarded-for and metadata', '/v1/chat/completions', tagged, 200)
  await expect('a key sent as the model name', '/v1/chat/completions', chat(main.secret, main.secret), 404, 'model_not_found')
})

test('malformed HTTP carrying credentials is refused without logging the raw request', async () => {
  const bad = await rec.raw('invalid header name', `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${main.secret}\r\nx-api-key: ${gw.adminKey}\r\nBad Header: ${providerKey}\r\n\r\n`)
  assert.equal(bad.status, 400)
  const huge = await rec.raw('header overflow', `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${main.secret}\r\nx-filler: ${'a'.repeat(20_000)}\r\n\r\n`)
  assert.equal(huge.status, 431)
})

test('shutdown, then: no canary in any log line, data-dir file, /metrics or answer; showing answers show theirs', async () => {
  const reader = await createKey('prometheus', { scopes: ['metrics:read'] })
  const metrics = await expect('metrics', '/metrics', { headers: headers(reader.secret) }, 200)
  assert.match(metrics.body, /^portcullis_requests_total\{/m, 'the scrape holds the request series')
  await expect('metrics with a proxy key', '/metrics', { headers: headers(main.secret) }, 403, 'insufficient_scope')
  await expect('metrics key in the query', `/metrics?api_key=${reader.secret}`, {}, 401, 'missing_credentials')
  // Shutdown with a stream in flight: it drains, and the shutdown's own lines are searched too.
  const inFlight = rec.send('stream across shutdown', '/v1/chat/completions', chat(main.secret, 'mock-gpt', { stream: true, messages: [{ role: 'user', content: '#mock:interval=20 #mock:tokens=10' }] }))
  await sleep(60)
  await gw.close()
  assert.equal((await inFlight).status, 200)

  const failures: string[] = []
  for (const ex of rec.exchanges) {
    const found = canariesIn(ex.head + '\n' + ex.body, canaries)
    for (const name of ex.shows) if (!found.has(name)) failures.push(`answer "${ex.label}" does not show ${name}`)
    for (const hit of findCanaries(ex.head + '\n' + ex.body, canaries)) {
      if (!ex.shows.some((name) => hit.startsWith(name + ' ('))) failures.push(`answer "${ex.label}" (${ex.status}) leaks ${hit}`)
    }
  }
  for (const line of gw.logs) {
    for (const hit of findCanaries(line, canaries)) failures.push(`log line "${(JSON.parse(line) as { msg?: string }).msg}" leaks ${hit}`)
  }
  const files = await dataDirText(gw.dataDir)
  for (const file of files) for (const hit of findCanaries(file.text, canaries)) failures.push(`file ${file.path} leaks ${hit}`)
  assert.deepEqual(failures, [])

  // Positive controls: the places searched hold what they should, so an empty result means something.
  assert.ok(rec.exchanges.length > 60, `${rec.exchanges.length} answers searched`)
  assert.ok(gw.logs.length > 50 && gw.logs.some((l) => l.includes('"level":10')), `trace lines were captured: ${gw.logs.length} ${[...new Set(gw.logs.map((l) => l.slice(0, 12)))].join(' ')}`)
  assert.ok(gw.logs.some((l) => l.includes(main.id)), 'the per-request lines name the key by its public id')
  const audit = files.filter((f) => f.path.startsWith('audit/')).map((f) => f.text).join('\n')
  assert.ok(audit.includes('"type":"request"') && audit.includes('"type":"admin"') && audit.includes(main.id), 'the audit segments were read')
  assert.deepEqual([...canariesIn(`x ${basicAuth(client.id, client.secret)} y`, canaries)], ['client secret main'], 'the search sees a secret inside Basic credentials')
})

test('a real process at trace level: traffic, malformed HTTP, echoing upstreams, graceful shutdown', async () => {
  const proc = await startGatewayProcess({
    adminKey: plant('process admin key', 'adm_' + randomBytes(24).toString('hex')),
    env: { PORTCULLIS_LOG_LEVEL: 'trace', CANARY_HOSTILE_KEY: hostileKey, CANARY_PROVIDER_KEY: providerKey },
    config: {
      upstreams: [
        { name: 'mock', type: 'openai', base_url: mock.url, api_key: { env: 'CANARY_PROVIDER_KEY' } },
        { name: 'hostile', type: 'openai', base_url: hostile.url, api_key: { env: 'CANARY_HOSTILE_KEY' } }
      ],
      models: [{ name: 'mock-*', upstream: 'mock' }, { name: 'hostile-*', upstream: 'hostile' }]
    }
  })
  try {
    // No PORTCULLIS_MASTER_KEY: the process generated DATA_DIR/master.key (its cwd); its content is a canary.
    const dataDir = await readlink(`/proc/${proc.child.pid}/cwd`)
    plant('master key file', (await readFile(join(dataDir, 'master.key'), 'utf8')).trim())
    const key = await proc.createKey()
    plant('process api key', key.secret, key.secret.slice(25, 55))
    const prec = createExchangeRecorder(proc.url)
    const send = async (label: string, path: string, init: RequestInit, status: number): Promise<void> => {
      assert.equal((await prec.send(label, path, init)).status, status, label)
    }
    await send('process chat', '/v1/chat/completions', chat(key.secret, 'mock-gpt', { stream: true }), 200)
    await send('process invalid key', '/v1/models', { headers: headers(tamper(key.secret, 30)) }, 401)
    await send('process echo 500', '/v1/chat/completions', chat(key.secret, 'hostile-echo-500'), 502)
    await send('process echo 200', '/v1/chat/completions', chat(key.secret, 'hostile-echo-200'), 502)
    await send('process key in the query', `/v1/models?api_key=${key.secret}`, {}, 401)
    await prec.raw('process malformed request', `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key.secret}\r\nBad Header: 1\r\n\r\n`)
    const files = await dataDirText(dataDir, ['master.key'])
    const failures: string[] = []
    for (const ex of prec.exchanges) for (const hit of findCanaries(ex.head + ex.body, canaries)) failures.push(`process answer "${ex.label}" leaks ${hit}`)
    for (const file of files) for (const hit of findCanaries(file.text, canaries)) failures.push(`process file ${file.path} leaks ${hit}`)
    // Graceful shutdown: exit 0, and its lines are searched with the rest.
    assert.equal(await proc.stop(), 0)
    for (const hit of findCanaries(proc.logs() + proc.stderr(), canaries)) failures.push(`process output leaks ${hit}`)
    assert.deepEqual(failures, [])
    assert.ok(proc.logs().includes('"level":10') && proc.logs().includes(key.id), 'trace lines naming the key id were captured')
    assert.ok(files.some((f) => f.text.includes('"type":"request"')), 'the process audit files were read')
  } finally {
    await proc.stop()
  }
})

// No request input makes the gateway throw outside its error handling (every path above ends in
// a catalogued answer), so the crash is made the way an operator meets one: an uncaught
// exception on the event loop of a serving process with a stream in flight. A preload (not
// production code) throws it on SIGUSR2; Node's crash report and everything written before it
// must hold no secret.
const crashOnSignal = "process.on('SIGUSR2',()=>{setImmediate(()=>{throw new Error('controlled crash for the canary test')})})"

test('a crash (uncaught exception) with a stream in flight prints and leaves no secret', async () => {
  const proc = await startGatewayProcess({
    adminKey: plant('crash admin key', 'adm_' + randomBytes(24).toString('hex')),
    env: {
      PORTCULLIS_LOG_LEVEL: 'trace',
      PORTCULLIS_MASTER_KEY: plant('crash master key', randomBytes(32).toString('base64')),
      CANARY_PROVIDER_KEY: providerKey,
      NODE_OPTIONS: '--import=data:text/javascript;base64,' + Buffer.from(crashOnSignal).toString('base64')
    },
    config: { upstreams: [{ name: 'mock', type: 'openai', base_url: mock.url, api_key: { env: 'CANARY_PROVIDER_KEY' } }], models: [{ name: 'mock-*', upstream: 'mock' }] }
  })
  try {
    const dataDir = await readlink(`/proc/${proc.child.pid}/cwd`)
    const key = await proc.createKey()
    plant('crash api key', key.secret, key.secret.slice(25, 55))
    const slow = fetch(proc.url + '/v1/chat/completions', chat(key.secret, 'mock-gpt', { stream: true, messages: [{ role: 'user', content: '#mock:interval=100 #mock:tokens=50' }] }))
      .then(async (res) => await res.text()).catch((err: Error) => err.message)
    await sleep(300)
    const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => { resolve(code) }))
    proc.child.kill('SIGUSR2')
    assert.notEqual(await exited, 0, 'the process died')
    const streamed = await slow
    assert.ok(proc.stderr().includes('controlled crash for the canary test'), 'the crash report was captured')
    const files = await dataDirText(dataDir)
    const failures = findCanaries(proc.logs() + proc.stderr() + streamed, canaries).map((hit) => `crash output leaks ${hit}`)
    for (const file of files) for (const hit of findCanaries(file.text, canaries)) failures.push(`file ${file.path} after the crash leaks ${hit}`)
    assert.deepEqual(failures, [])
  } finally {
    await proc.stop()
  }
})

test('start-up failures with secrets in the config do not print them', async () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['master key', { PORTCULLIS_MASTER_KEY: plant('malformed master key', 'not-base64-' + randomBytes(20).toString('hex')) }],
    ['database url', { PORTCULLIS_DATABASE_URL: `postgres://portcullis:${plant('database password', 'pw' + randomBytes(16).toString('hex'))}@[::1` }],
    ['redis url', { PORTCULLIS_REDIS_URL: `redis://:${plant('redis password', 'pw' + randomBytes(16).toString('hex'))}@127.0.0.1:1` }]
  ]
  for (const [label, env] of cases) {
    const failed = await startGatewayProcess({ adminKey: 'adm_' + randomBytes(24).toString('hex'), env }).then(async (p) => { await p.stop(); return '' }, (err: Error) => err.message)
    assert.match(failed, /portcullis: /, `${label}: the start failed and said why`)
    assert.deepEqual(findCanaries(failed, canaries), [], `${label}: the failure message holds no secret`)
  }
})
