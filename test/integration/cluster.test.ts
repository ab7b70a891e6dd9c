import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Redis } from 'ioredis'
import { startMockUpstream, type MockUpstream } from '../../src/upstream/mock/mock-upstream-server.ts'
import { startTcpProxy } from '../../src/store/postgres/tcp-proxy-fixture.ts'
import { estimatePromptTokens } from '../../src/limits/estimate-tokens.ts'
import { startGatewayProcess, type GatewayProcess } from '../helpers/start-gateway-process.ts'
import { basicAuth } from '../helpers/start-test-gateway.ts'

// Two real gateway processes sharing the real PostgreSQL (a schema of this file's own) and the
// real Redis (a key prefix of its own), as two replicas behind a load balancer.
const databaseUrl = process.env.PORTCULLIS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const redisUrl = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const schema = 'pcl_cluster_' + randomBytes(6).toString('hex')
const prefix = `pcl-test-${randomBytes(6).toString('hex')}:`
const adminKey = 'adm_' + randomBytes(24).toString('hex')
// Every instance must share the master key: API key hashes are peppered with a key derived from it.
const clusterEnv = {
  PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'),
  PORTCULLIS_DATABASE_URL: databaseUrl,
  PORTCULLIS_DATABASE_SCHEMA: schema,
  PORTCULLIS_REDIS_PREFIX: prefix,
  // One issuer for the cluster, as behind a load balancer: a token from A verifies on B.
  PORTCULLIS_OAUTH_ISSUER: 'http://127.0.0.1',
  PORTCULLIS_LOG_LEVEL: 'warn'
}
// The bound a change must reach every instance within (issue #4: target ≤ 1 s).
const boundMs = 1000
const usdPerToken = 0.001

let up: MockUpstream
let a: GatewayProcess
let b: GatewayProcess
const cleanups: Array<() => Promise<unknown>> = []

function configFor (limits: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { shutdown_timeout_ms: 2000 },
    upstreams: [{ name: 'up', type: 'openai', base_url: up.url }],
    models: [{ name: 'mock-*', upstream: 'up' }],
    // `mock-burst` has one limit over every caller and every instance.
    limits: { models: [{ model: 'mock-burst', requests_per_minute: 50 }], usage_flush_ms: 100, ...limits },
    prices: [{ model: 'mock-*', input_per_million_usd: usdPerToken * 1e6, output_per_million_usd: usdPerToken * 1e6 }]
  }
}

async function startInstance (redis = redisUrl, limits: Record<string, unknown> = {}): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess({ adminKey, config: configFor(limits), env: { ...clusterEnv, PORTCULLIS_REDIS_URL: redis } })
  cleanups.push(() => gateway.stop())
  return gateway
}

/** Waits for every start, so a process that did start is registered for cleanup even when another failed. */
async function startAll (starts: [Promise<GatewayProcess>, Promise<GatewayProcess>]): Promise<[GatewayProcess, GatewayProcess]> {
  const settled = await Promise.allSettled(starts)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map((s) => (s as PromiseFulfilledResult<GatewayProcess>).value) as [GatewayProcess, GatewayProcess]
}

before(async () => {
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  cleanups.push(async () => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await db.end()
  })
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  cleanups.push(async () => {
    const stream = redis.scanStream({ match: `${prefix}*`, count: 1000 })
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  up = await startMockUpstream()
  cleanups.push(() => up.close())
  // Both replicas start at once, as a deployment rolls out: they migrate one shared schema.
  ;[a, b] = await startAll([startInstance(), startInstance()])
})
// Reverse order: processes first, then the upstream, Redis keys and the schema they used.
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => { console.error('cleanup failed', err) })
})

interface Answer { status: number, headers: Headers, body: any, text: string }

async function call (gateway: GatewayProcess, secret: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(gateway.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  let json: unknown = null
  try { json = JSON.parse(text) } catch {}
  return { status: res.status, headers: res.headers, body: json, text }
}

function chatBody (content: string, extra: Record<string, unknown> = {}, model = 'mock-gpt'): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content }], ...extra }
}

async function adminOk (gateway: GatewayProcess, method: string, path: string, body?: unknown): Promise<any> {
  const res = await gateway.admin(method, path, body)
  const json = await res.json()
  assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

/**
 * Polls `check` every 20 ms until it holds; returns the ms from `since` to the first poll that
 * saw it (so it includes that poll's round trip). Fails after 5 s.
 */
async function delayUntil (since: number, check: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await check()) return Date.now() - since
    assert.ok(Date.now() - since < 5000, 'the change never reached the other instance')
    await sleep(20)
  }
}

/** Logs leave the process asynchronously (pino): waits up to 3 s for a line matching `pattern`. */
async function logged (gateway: GatewayProcess, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 3000
  while (!pattern.test(gateway.logs())) {
    assert.ok(Date.now() < deadline, `no log line matching ${String(pattern)}:\n${gateway.logs()}`)
    await sleep(20)
  }
}

async function accessToken (gateway: GatewayProcess): Promise<{ clientId: string, token: string }> {
  const client = await adminOk(gateway, 'POST', '/admin/v1/clients', { name: 'svc', scopes: ['models:read'] }) as { client_id: string, client_secret: string }
  const res = await fetch(gateway.url + '/oauth/token', {
    method: 'POST',
    headers: { authorization: basicAuth(client.client_id, client.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials'
  })
  assert.equal(res.status, 200)
  return { clientId: client.client_id, token: (await res.json() as { access_token: string }).access_token }
}

test('a burst split across both instances passes exactly the global limit of 50', async () => {
  const key = await a.createKey()
  const forwardedBefore = up.stats.requests
  const burst = (count: number) => Promise.all(Array.from({ length: count }, async (_, i) => {
    const answer = await call(i % 2 === 0 ? a : b, key.secret, '/v1/chat/completions', chatBody('burst', {}, 'mock-burst'))
    return { instance: i % 2 === 0 ? 'a' : 'b', answer }
  }))
  // A first wave of 20 fits (so both instances hold part of the count; under load one instance's
  // whole burst can otherwise reach Redis first), then 180 race for the last 30 across both.
  const first = await burst(20)
  assert.deepEqual(first.map((x) => x.answer.status), Array(20).fill(200))
  const answers = [...first, ...await burst(180)]
  const ok = answers.filter((x) => x.answer.status === 200)
  assert.equal(ok.length, 50)
  assert.ok(ok.some((x) => x.instance === 'a') && ok.some((x) => x.instance === 'b'), 'both instances admitted part of the 50')
  for (const { answer } of answers.filter((x) => x.answer.status !== 200)) {
    assert.equal(answer.status, 429, answer.text)
    assert.equal(answer.body.error.code, 'rate_limit_exceeded')
  }
  assert.equal(up.stats.requests - forwardedBefore, 50, 'the upstream saw exactly 50')
})

// Measured on the development machine (Node 24, 2 vCPUs, Redis and PostgreSQL local), from A's
// admin answer to B's first refusal, over 6 runs: key revocation 2–11 ms, client disable 2–11 ms,
// token revocation 2–27 ms, policy 2–30 ms; usually the very first poll already saw the change.
// Every figure includes one poll's round trip (the polls are 20 ms apart). The tests print theirs.
test('a key revoked on A is refused on B within the bound', async (t) => {
  const key = await a.createKey()
  // B has looked the key up, so it is in B's cache (30 s by default): only the broadcast can evict it.
  assert.equal((await call(b, key.secret, '/v1/models')).status, 200)
  await adminOk(a, 'POST', `/admin/v1/keys/${key.id}/revoke`)
  const delay = await delayUntil(Date.now(), async () => (await call(b, key.secret, '/v1/models')).status === 401)
  t.diagnostic(`key revocation reached B after ${delay} ms`)
  assert.ok(delay <= boundMs, `B refused the revoked key after ${delay} ms`)
})

test('an OAuth client disabled on A, and a token revoked on A, are refused on B within the bound', async (t) => {
  const disabled = await accessToken(a)
  const revoked = await accessToken(a)
  assert.equal((await call(b, disabled.token, '/v1/models')).status, 200)
  assert.equal((await call(b, revoked.token, '/v1/models')).status, 200)

  await adminOk(a, 'POST', `/admin/v1/clients/${disabled.clientId}/disable`)
  const clientDelay = await delayUntil(Date.now(), async () => (await call(b, disabled.token, '/v1/models')).status === 401)
  t.diagnostic(`client disable reached B after ${clientDelay} ms`)
  assert.ok(clientDelay <= boundMs, `B refused the disabled client's token after ${clientDelay} ms`)

  const revocation = await adminOk(a, 'POST', '/admin/v1/tokens/revoke', { token: revoked.token })
  assert.equal(revocation.revoked, true)
  const tokenDelay = await delayUntil(Date.now(), async () => (await call(b, revoked.token, '/v1/models')).status === 401)
  t.diagnostic(`token revocation reached B after ${tokenDelay} ms`)
  assert.ok(tokenDelay <= boundMs, `B refused the revoked token after ${tokenDelay} ms`)
})

test('a policy created on A is enforced on B within the bound', async (t) => {
  const key = await a.createKey()
  // Before the policy, B knows no limit for this key.
  assert.equal((await call(b, key.secret, '/v1/chat/completions', chatBody('free', { max_tokens: 17 }))).status, 200)
  await adminOk(a, 'POST', '/admin/v1/policies', { target: { kind: 'key', id: key.id }, requests_per_minute: 2, max_tokens: 16 })
  // A max_tokens cap is checked before any counter, so polling with 17 spends nothing once it holds.
  const delay = await delayUntil(Date.now(), async () => {
    const answer = await call(b, key.secret, '/v1/chat/completions', chatBody('poll', { max_tokens: 17 }))
    return answer.status === 400 && answer.body.error.param === 'max_tokens'
  })
  t.diagnostic(`policy reached B after ${delay} ms`)
  assert.ok(delay <= boundMs, `B enforced the new policy after ${delay} ms`)
  assert.equal((await call(b, key.secret, '/v1/chat/completions', chatBody('one'))).status, 200)
  assert.equal((await call(a, key.secret, '/v1/chat/completions', chatBody('two'))).status, 200)
  const third = await call(b, key.secret, '/v1/chat/completions', chatBody('three'))
  assert.equal(third.status, 429, third.text)
  assert.equal(third.body.error.code, 'rate_limit_exceeded')
})

test('a budget spent on A is seen on B: B refuses with budget_exceeded', async () => {
  const body = chatBody('spend #mock:tokens=20', { max_tokens: 20 })
  const reservationUsd = (estimatePromptTokens('chat.completions', body, 'mock-gpt') + 20) * usdPerToken
  const budgetUsd = Math.round(reservationUsd * 2.5 * 1e6) / 1e6
  const key = await a.createKey()
  await adminOk(a, 'POST', '/admin/v1/policies', { target: { kind: 'key', id: key.id }, budget_usd: budgetUsd, budget_period: 'daily', max_tokens: 20 })
  // Wait until B has the policy (its max_tokens cap shows it), so B refusing below is the budget.
  await delayUntil(Date.now(), async () => (await call(b, key.secret, '/v1/chat/completions', chatBody('x', { max_tokens: 21 }))).status === 400)

  let spent = 0
  for (;;) {
    const answer = await call(a, key.secret, '/v1/chat/completions', body)
    if (answer.status !== 200) {
      assert.equal(answer.body.error.code, 'budget_exceeded', answer.text)
      break
    }
    spent++
    assert.ok(spent < 10, 'the budget never ran out on A')
  }
  assert.ok(spent >= 2, `A admitted ${spent} requests of a budget covering 2.5 reservations`)
  const forwardedBefore = up.stats.requests
  const onB = await call(b, key.secret, '/v1/chat/completions', body)
  assert.equal(onB.status, 429, onB.text)
  assert.equal(onB.body.error.code, 'budget_exceeded')
  assert.equal(onB.body.error.type, 'insufficient_quota')
  assert.equal(onB.headers.get('x-should-retry'), 'false')
  assert.equal(up.stats.requests, forwardedBefore, 'B never called the upstream')
})

test('Redis down: fail_closed answers 503 and /readyz says redis: down; local_limits keeps per-instance limits and logs loudly', async (t) => {
  const proxy = await startTcpProxy({ host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port || 6379) })
  t.after(() => proxy.close())
  const viaProxy = `redis://127.0.0.1:${proxy.port}`
  const perKey = { per_credential: { requests_per_minute: 3 } }
  const [closed, local] = await startAll([
    startInstance(viaProxy, perKey),
    startInstance(viaProxy, { ...perKey, on_redis_failure: 'local_limits' })
  ])
  t.after(() => Promise.all([closed.stop(), local.stop()]))
  const key = await a.createKey()
  const ask = async (gateway: GatewayProcess): Promise<Answer> => await call(gateway, key.secret, '/v1/chat/completions', chatBody('hi'))
  assert.equal((await ask(closed)).status, 200)
  const ready = await fetch(closed.url + '/readyz')
  assert.equal(ready.status, 200)
  assert.deepEqual((await ready.json() as { checks: unknown }).checks, { store: 'ok', redis: 'ok', audit: 'ok' })

  proxy.cut()
  const refused = await ask(closed)
  assert.equal(refused.status, 503, refused.text)
  assert.equal(refused.body.error.code, 'service_unavailable')
  await logged(closed, /rate limits cannot be checked \(Redis unreachable\)/)
  for (const gateway of [closed, local]) {
    const res = await fetch(gateway.url + '/readyz')
    assert.equal(res.status, 503)
    assert.deepEqual((await res.json() as { checks: unknown }).checks, { store: 'ok', redis: 'down', audit: 'ok' })
  }

  // Degraded: this instance's own counters, 3 per minute for the key.
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await ask(local)).status)
  assert.deepEqual(statuses, [200, 200, 200, 429])
  // Loud: at error level (pino 50), naming what changed.
  await logged(local, /"level":50[^\n]*DEGRADED: Redis is unreachable[^\n]*PER INSTANCE/)
  assert.doesNotMatch(closed.logs(), /DEGRADED/)
})
