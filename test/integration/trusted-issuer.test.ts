import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { JWTPayload } from 'jose'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { generateSigningKey, startTestIdentityProvider, type SigningKey, type TestIdentityProvider } from '../helpers/test-identity-provider.ts'

// Trusted external issuers through the real gateway: what their tokens may do, and how the
// gateway treats the IdP's key set (RFC 7515 §4.1.4 kid lookups, rotation, outages).

const AUDIENCE = 'portcullis-test'
const names = ['acme', 'ops', 'edge', 'rotating', 'flaky', 'discovered'] as const
type Name = typeof names[number]
const idps = {} as Record<Name, TestIdentityProvider>
const keys = {} as Record<Name, SigningKey>
let gw: TestGateway
let startedAt = 0
const sent: string[] = []
const refreshFailed = 'refreshing a trusted issuer\'s JWKS failed'

function issuer (name: Name, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer: idps[name].issuer,
    audience: AUDIENCE,
    jwks_uri: idps[name].jwksUri,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    claims: { client_id: 'azp', tenant: 'tenant_id', roles: 'realm_access.roles' },
    ...extra
  }
}

before(async () => {
  const algs: Record<Name, 'RS256' | 'ES256' | 'EdDSA'> = { acme: 'RS256', ops: 'ES256', edge: 'ES256', rotating: 'EdDSA', flaky: 'ES256', discovered: 'RS256' }
  await Promise.all(names.map(async (name) => {
    keys[name] = await generateSigningKey(algs[name])
    idps[name] = await startTestIdentityProvider({ realm: name, keys: [keys[name]] })
  }))
  gw = await startTestGateway({
    logLevel: 'debug',
    config: {
      server: { trusted_proxies: ['127.0.0.1/32'] },
      auth: { brute_force: { max_failures: 1000 } },
      trusted_issuers: [
        issuer('acme', { algorithms: ['RS256', 'ES256'], models: ['mock-gpt', 'mock-embedding'], jwks_refresh_interval_seconds: 60 }),
        issuer('ops', { scopes: ['chat', 'admin', 'admin:keys'] }),
        issuer('edge', { allowed_ips: ['203.0.113.0/24'] }),
        issuer('rotating', { jwks_refresh_interval_seconds: 1 }),
        issuer('flaky', { jwks_refresh_interval_seconds: 1, jwks_max_age_seconds: 1 }),
        { ...issuer('discovered'), jwks_uri: undefined }
      ]
    }
  })
  startedAt = Date.now()
})
after(async () => {
  await gw.close()
  await Promise.all(names.map(async name => { await idps[name].close() }))
})

function claims (name: Name, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  return { iss: idps[name].issuer, aud: AUDIENCE, sub: 'alice', azp: 'portal', tenant_id: 'acme', realm_access: { roles: ['user'] }, iat: now, exp: now + 300, jti: randomUUID(), ...extra }
}

async function token (name: Name, extra: JWTPayload = {}, key: SigningKey = keys[name]): Promise<string> {
  const minted = await idps[name].sign(key, claims(name, extra))
  sent.push(minted)
  return minted
}

/** The parts of gateway answers these tests read. */
interface ReplyBody {
  error?: { code: string }
  model?: string
  choices?: Array<{ message: { content: unknown } }>
  data?: Array<{ id: string, tenant: string | null }>
  tenant?: string | null
  created_by?: string | null
}

async function call (path: string, bearer: string, body?: unknown, headers: Record<string, string> = {}, base = gw.url): Promise<{ status: number, headers: Headers, body: ReplyBody }> {
  const res = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, headers: res.headers, body: await res.json() as ReplyBody }
}

const chatBody = (model = 'mock-gpt'): object => ({ model, messages: [{ role: 'user', content: 'hello' }] })

async function assertChat (bearer: string, expected: number | string, model = 'mock-gpt', headers: Record<string, string> = {}): Promise<void> {
  const res = await call('/v1/chat/completions', bearer, chatBody(model), headers)
  if (typeof expected === 'number') {
    assert.equal(res.status, expected, JSON.stringify(res.body))
    assert.equal(res.body.model, model)
    assert.equal(typeof res.body.choices?.[0]?.message.content, 'string')
  } else {
    assert.equal(res.body.error?.code, expected, JSON.stringify(res.body))
  }
}

test('every key set was fetched once at start-up, and discovery found its JWKS', () => {
  for (const name of names) assert.equal(idps[name].jwksRequests, 1, name)
  assert.equal(idps.discovered.discoveryRequests, 1)
  assert.equal(idps.acme.discoveryRequests, 0)
})

test('a signed token from the IdP calls the proxy; roles [user] expand to the proxy scopes', async () => {
  const bearer = await token('acme')
  await assertChat(bearer, 200)
  assert.equal((await call('/v1/embeddings', bearer, { model: 'mock-embedding', input: 'x' })).status, 200)
  assert.equal((await call('/v1/models', bearer)).status, 200)
  await assertChat(await token('acme', {}, await generateSigningKey('ES256', keys.acme.kid)), 'invalid_token')
  // Control: a role without proxy scopes opens nothing.
  await assertChat(await token('acme', { realm_access: { roles: ['auditor'] } }), 'insufficient_scope')
  await assertChat(await token('discovered'), 200)
})

test('an admin scope in the token is dropped unless the issuer\'s scopes bound lists it', async () => {
  const admin = { scope: 'admin', realm_access: { roles: ['admin'] } }
  const refused = await call('/admin/v1/keys', await token('acme', admin))
  assert.equal(refused.status, 403)
  assert.equal(refused.body.error?.code, 'insufficient_scope')
  assert.equal((await call('/admin/v1/keys', await token('ops', admin))).status, 200)
})

test('the tenant comes from the mapped claim', async () => {
  const globex = await gw.createKey({ tenant: 'globex' })
  const acme = await gw.createKey({ tenant: 'acme' })
  const bearer = await token('ops', { sub: 'carol', realm_access: { roles: ['tenant-admin'] } })
  const listed = await call('/admin/v1/keys', bearer)
  assert.equal(listed.status, 200)
  const ids = (listed.body.data ?? []).map(k => k.id)
  assert.ok(ids.includes(acme.id) && !ids.includes(globex.id), JSON.stringify(ids))
  assert.ok((listed.body.data ?? []).every(k => k.tenant === 'acme'))
  const created = await call('/admin/v1/keys', bearer, { name: 'from-idp', scopes: ['chat'] })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.equal(created.body.tenant, 'acme')
  assert.equal(created.body.created_by, 'carol@external')
  const other = await call('/admin/v1/keys', await token('ops', { tenant_id: 'globex', realm_access: { roles: ['tenant-admin'] } }))
  assert.deepEqual((other.body.data ?? []).map(k => k.id), [globex.id])
})

test('the issuer\'s model allowlist applies to its tokens', async () => {
  await assertChat(await token('acme'), 'model_not_allowed', 'mock-other')
  // Control: the mock answers any mock-* model for an issuer without an allowlist.
  await assertChat(await token('ops'), 200, 'mock-other')
})

test('the issuer\'s allowed_ips applies to its tokens', async () => {
  const bearer = await token('edge')
  await assertChat(bearer, 'ip_not_allowed')
  // Control: the same token from inside the range (via the trusted proxy on 127.0.0.1).
  await assertChat(bearer, 200, 'mock-gpt', { 'x-forwarded-for': '203.0.113.7' })
})

async function randomKidTokens (name: Name, count: number): Promise<string[]> {
  // ES256: every issuer here allows it, and its keys are quick to make.
  return await Promise.all(Array.from({ length: count }, async () => await token(name, {}, await generateSigningKey('ES256'))))
}

test('unknown kids cost the IdP at most one JWKS fetch per refresh interval', async () => {
  // Within the 60 s interval of the start-up fetch: no fetch at all.
  for (const bearer of await randomKidTokens('acme', 20)) await assertChat(bearer, 'invalid_token')
  assert.equal(idps.acme.jwksRequests, 1)
  // Once the 1 s interval has passed: a concurrent burst of 20 and 20 more after it share one fetch.
  const forged = await randomKidTokens('rotating', 40)
  await sleep(Math.max(0, startedAt + 1100 - Date.now()))
  const before = idps.rotating.jwksRequests
  await Promise.all(forged.slice(0, 20).map(async bearer => { await assertChat(bearer, 'invalid_token') }))
  for (const bearer of forged.slice(20)) await assertChat(bearer, 'invalid_token')
  assert.ok(idps.rotating.jwksRequests - before <= 1, `${idps.rotating.jwksRequests - before} fetches`)
  await assertChat(await token('rotating'), 200)
})

test('a key rotated in at the IdP is accepted after one refetch; the retired key stops', async () => {
  const retired = keys.rotating
  const next = await generateSigningKey('EdDSA')
  idps.rotating.keys = [next]
  await sleep(1100)
  const before = idps.rotating.jwksRequests
  await assertChat(await token('rotating', {}, next), 200)
  await assertChat(await token('rotating', {}, next), 200)
  assert.equal(idps.rotating.jwksRequests - before, 1)
  await assertChat(await token('rotating', {}, retired), 'invalid_token')
})

async function until (what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(20)
  assert.ok(condition(), what)
}

test('when the IdP fails or goes away, tokens signed by the last good keys are still accepted', async () => {
  const idp = idps.flaky
  await assertChat(await token('flaky'), 200)
  idp.answer = 'error'
  await sleep(1100)
  const before = idp.jwksRequests
  const warnings = (): number => gw.logs.filter(l => l.includes(refreshFailed)).length
  const warned = warnings()
  // Keys past jwks_max_age_seconds: this token starts a background refresh, which fails.
  await assertChat(await token('flaky'), 200)
  await until('the IdP was asked again', () => idp.jwksRequests > before)
  await until('the failed refresh was logged', () => warnings() > warned)
  await assertChat(await token('flaky'), 200)
  await idp.close()
  await sleep(1100)
  await assertChat(await token('flaky'), 200)
  await until('the refused connection was logged', () => warnings() > warned + 1)
  await assertChat(await token('flaky'), 200)
})

test('brute force: after 3 invalid tokens even a valid one gets 429 with retry-after', async () => {
  const guarded = await startTestGateway({
    logLevel: 'debug',
    config: { auth: { brute_force: { max_failures: 3, cooldown_seconds: 120 } }, trusted_issuers: [issuer('acme')] }
  })
  try {
    const valid = await token('acme')
    assert.equal((await call('/v1/chat/completions', valid, chatBody(), {}, guarded.url)).status, 200)
    for (let i = 0; i < 3; i++) {
      const res = await call('/v1/chat/completions', await token('acme', { aud: 'another-api' }), chatBody(), {}, guarded.url)
      assert.equal(res.body.error?.code, 'invalid_token')
    }
    const locked = await call('/v1/chat/completions', valid, chatBody(), {}, guarded.url)
    assert.equal(locked.status, 429)
    assert.equal(locked.body.error?.code, 'too_many_failed_attempts')
    const retryAfter = Number(locked.headers.get('retry-after'))
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120, `retry-after ${retryAfter}`)
    assertNoTokenIn(guarded.logs)
  } finally {
    await guarded.close()
  }
})

function assertNoTokenIn (lines: readonly string[]): void {
  assert.ok(lines.length > 5, 'debug logging produced lines to inspect')
  const logs = lines.join('\n')
  for (const sentToken of sent) {
    assert.ok(!logs.includes(sentToken), 'a token reached the log')
    assert.ok(!logs.includes(sentToken.split('.')[2] as string), 'a token signature reached the log')
  }
}

test('canary: no token sent appears in the debug log', () => {
  assert.ok(sent.length > 10, 'tokens were sent')
  assertNoTokenIn(gw.logs)
})
