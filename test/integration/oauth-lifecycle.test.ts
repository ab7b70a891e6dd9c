import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt } from 'jose'
import { basicAuth, startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// OAuth client lifecycle as an operator drives it (admin API) and a client sees it (HTTP answers).
let gw: TestGateway
// Brute force gets its own gateway: its lockouts would refuse everything else from 127.0.0.1.
let bf: TestGateway
const gateways: TestGateway[] = []
const secrets: string[] = []

interface Client { id: string, secret: string }

before(async () => {
  // Refused tokens below are deliberate failures from 127.0.0.1; they must not trip the throttle here.
  gw = await startTestGateway({ logLevel: 'trace', config: { auth: { brute_force: { max_failures: 100 } } } })
  bf = await startTestGateway({
    logLevel: 'trace',
    config: {
      auth: { brute_force: { max_failures: 3, window_seconds: 60, cooldown_seconds: 60 } },
      // Each attack comes from its own address (X-Forwarded-For), so the lockouts stay apart.
      server: { trusted_proxies: ['127.0.0.1'] }
    }
  })
  gateways.push(gw, bf)
  secrets.push(gw.adminKey, bf.adminKey)
})
after(async () => { await Promise.all([gw.close(), bf.close()]) })

async function register (g: TestGateway, body: Record<string, unknown> = {}): Promise<Client> {
  const client = await g.createClient(body)
  secrets.push(client.secret, basicAuth(client.id, client.secret).slice(6))
  return client
}

async function tokenRequest (g: TestGateway, client: Client, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return await g.oauthPost('/oauth/token', client, { grant_type: 'client_credentials', ...form }, headers)
}

async function token (g: TestGateway, client: Client, scope?: string): Promise<string> {
  const res = await tokenRequest(g, client, scope === undefined ? {} : { scope })
  const body = await res.json() as { access_token: string }
  assert.equal(res.status, 200, JSON.stringify(body))
  secrets.push(body.access_token)
  return body.access_token
}

async function call (g: TestGateway, credential: string, endpoint = 'chat/completions', headers: Record<string, string> = {}): Promise<Response> {
  const body = endpoint === 'embeddings' ? { model: 'mock-embedding', input: 'x' } : { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }
  return await fetch(`${g.url}/v1/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, ...headers },
    body: JSON.stringify(body)
  })
}

/** The proxy's answer in the OpenAI error envelope; `invalid_token` with its RFC 6750 §3 challenge. */
async function assertProxyError (res: Response, status: number, code: string): Promise<void> {
  const body = await res.json() as { error: { code: string } }
  assert.equal(res.status, status, JSON.stringify(body))
  assert.equal(body.error.code, code)
  if (code === 'invalid_token') assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
}

async function assertOk (res: Response): Promise<void> {
  assert.equal(res.status, 200, await res.clone().text())
  await res.arrayBuffer()
}

/** RFC 6749 §5.2 body (error and a description, nothing else) with the §5.1 no-store headers. */
async function assertOAuthError (res: Response, status: number, error: string): Promise<void> {
  const body = await res.json() as Record<string, unknown>
  assert.equal(res.status, status, JSON.stringify(body))
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'])
  assert.equal(body.error, error)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  assert.equal(res.headers.get('pragma'), 'no-cache')
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Basic realm="portcullis"')
}

async function adminAction (g: TestGateway, id: string, action: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const res = await g.admin('POST', `/admin/v1/clients/${id}/${action}`, body)
  const json = await res.json() as Record<string, unknown>
  assert.equal(res.status, 200, JSON.stringify(json))
  if (typeof json.client_secret === 'string') secrets.push(json.client_secret)
  return json
}

test('registration shows the secret once; get and list never do', async () => {
  const res = await gw.admin('POST', '/admin/v1/clients', { name: 'once', scopes: ['chat'] })
  assert.equal(res.status, 201)
  const created = await res.json() as { client_id: string, client_secret: string }
  secrets.push(created.client_secret)
  assert.match(created.client_secret, /^pcs_[A-Za-z0-9_-]{43}$/)
  for (const path of [`/admin/v1/clients/${created.client_id}`, '/admin/v1/clients']) {
    const text = await (await gw.admin('GET', path)).text()
    assert.ok(text.includes(created.client_id))
    for (const leak of ['client_secret', created.client_secret, 'scrypt$']) assert.equal(text.includes(leak), false, `${path} shows ${leak.slice(0, 8)}`)
  }
})

test('scope down-selection narrows the token; beyond the client, wrong secret and other grants are RFC 6749 errors', async () => {
  const client = await register(gw, { scopes: ['chat', 'embeddings'] })
  const narrow = await token(gw, client, 'chat')
  assert.equal(decodeJwt(narrow).scope, 'chat')
  await assertOk(await call(gw, narrow))
  await assertProxyError(await call(gw, narrow, 'embeddings'), 403, 'insufficient_scope')

  await assertOAuthError(await tokenRequest(gw, client, { scope: 'chat embeddings completions' }), 400, 'invalid_scope')
  await assertOAuthError(await tokenRequest(gw, { id: client.id, secret: client.secret + 'x' }), 401, 'invalid_client')
  for (const grant of ['password', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
    await assertOAuthError(await tokenRequest(gw, client, { grant_type: grant }), 400, 'unsupported_grant_type')
  }
})

test('secret rotation: grace 0 ends the old secret at once, grace 60 keeps both; tokens are untouched', async () => {
  const first = await register(gw, { scopes: ['chat'] })
  const early = await token(gw, first)
  const rotated = await adminAction(gw, first.id, 'rotate', { grace_period_seconds: 0 })
  const second = { id: first.id, secret: rotated.client_secret as string }
  assert.match(second.secret, /^pcs_/)
  assert.notEqual(second.secret, first.secret)
  await assertOAuthError(await tokenRequest(gw, first), 401, 'invalid_client')
  await token(gw, second)
  // Rotation replaces the secret, not the tokens already issued (revoke-tokens does that).
  await assertOk(await call(gw, early))

  const graced = await adminAction(gw, first.id, 'rotate', { grace_period_seconds: 60 })
  const third = { id: first.id, secret: graced.client_secret as string }
  const expires = graced.previous_secret_expires_at as number
  assert.ok(Math.abs(expires - (Date.now() / 1000 + 60)) <= 2, `grace ends in 60 s, not at ${expires}`)
  await assertOk(await call(gw, await token(gw, second)))
  await assertOk(await call(gw, await token(gw, third)))
  await assertOAuthError(await tokenRequest(gw, first), 401, 'invalid_client')
})

test('disable refuses existing tokens and the token endpoint; enable restores both', async () => {
  const client = await register(gw, { scopes: ['chat'] })
  const issued = await token(gw, client)
  await assertOk(await call(gw, issued))
  assert.equal((await adminAction(gw, client.id, 'disable')).status, 'disabled')
  await assertProxyError(await call(gw, issued), 401, 'invalid_token')
  await assertOAuthError(await tokenRequest(gw, client), 401, 'invalid_client')
  assert.equal((await adminAction(gw, client.id, 'enable')).status, 'active')
  await assertOk(await call(gw, issued))
  await assertOk(await call(gw, await token(gw, client)))
})

test('revoke-tokens refuses every earlier token at the next request; a token from a later second works', async () => {
  const client = await register(gw, { scopes: ['chat'] })
  const used = await token(gw, client)
  const unused = await token(gw, client)
  await assertOk(await call(gw, used))
  const revoked = await adminAction(gw, client.id, 'revoke-tokens')
  assert.equal(typeof revoked.tokens_revoked_before, 'number')
  await assertProxyError(await call(gw, used), 401, 'invalid_token')
  await assertProxyError(await call(gw, unused), 401, 'invalid_token')
  assert.equal(await (await gw.oauthPost('/oauth/introspect', client, { token: used })).text(), '{"active":false}')
  // `iat` is whole seconds and the marker milliseconds: a token issued in the same second as the
  // revocation counts as issued before it (fail closed), so the first usable one comes a second later.
  await sleep(1000)
  await assertOk(await call(gw, await token(gw, client)))
})

test('delete refuses existing tokens and the client\'s secret', async () => {
  const client = await register(gw, { scopes: ['chat'] })
  const issued = await token(gw, client)
  await assertOk(await call(gw, issued))
  const res = await gw.admin('DELETE', `/admin/v1/clients/${client.id}`)
  assert.deepEqual(await res.json(), { id: client.id, object: 'oauth_client', deleted: true })
  await assertProxyError(await call(gw, issued), 401, 'invalid_token')
  await assertOAuthError(await tokenRequest(gw, client), 401, 'invalid_client')
  assert.equal((await gw.admin('GET', `/admin/v1/clients/${client.id}`)).status, 404)
})

test('RFC 7009 revocation refuses the token at once and survives a restart', async () => {
  // A fixed issuer: the default (the listener URL) would change with the restarted port.
  const config = { oauth: { issuer: 'https://gateway.example.test' }, auth: { brute_force: { max_failures: 100 } } }
  const first = await startTestGateway({ logLevel: 'trace', keepDataDir: true, config })
  gateways.push(first)
  secrets.push(first.adminKey)
  let second: TestGateway | undefined
  try {
    const owner = await register(first, { scopes: ['chat'] })
    const other = await register(first, { scopes: ['chat'] })
    const revoked = await token(first, owner)
    const kept = await token(first, owner)
    await assertOk(await call(first, revoked))
    await assertOAuthError(await first.oauthPost('/oauth/revoke', other, { token: revoked }), 400, 'unauthorized_client')
    await assertOk(await call(first, revoked))

    for (let i = 0; i < 2; i++) {
      // §2.2: 200 whether or not it was still active, so the second call is answered alike.
      const res = await first.oauthPost('/oauth/revoke', owner, { token: revoked, token_type_hint: 'access_token' })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal(await res.text(), '{}')
    }
    await assertProxyError(await call(first, revoked), 401, 'invalid_token')
    assert.equal(await (await first.oauthPost('/oauth/introspect', owner, { token: revoked })).text(), '{"active":false}')
    await assertOk(await call(first, kept))

    await first.close()
    second = await startTestGateway({ logLevel: 'trace', dataDir: first.dataDir, config })
    gateways.push(second)
    secrets.push(second.adminKey)
    await assertProxyError(await call(second, revoked), 401, 'invalid_token')
    assert.equal(await (await second.oauthPost('/oauth/introspect', owner, { token: revoked })).text(), '{"active":false}')
    // Same keys, issuer and client after the restart: only the persisted deny list refuses `revoked`.
    await assertOk(await call(second, kept))
    assert.equal((await (await second.oauthPost('/oauth/introspect', owner, { token: kept })).json() as { active: boolean }).active, true)
  } finally {
    await first.close()
    await second?.close()
  }
})

const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip })

async function assertCoolingDown (res: Response, oauthFormat: boolean): Promise<void> {
  const body = await res.json() as { error: string | { code: string } }
  assert.equal(res.status, 429, JSON.stringify(body))
  assert.equal(oauthFormat ? body.error : (body.error as { code: string }).code, 'too_many_failed_attempts')
  const retryAfter = Number(res.headers.get('retry-after'))
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${res.headers.get('retry-after')}`)
}

test('brute force on the token endpoint: after 3 wrong secrets even the right one is 429, for that IP and that client id', async () => {
  const victim = await register(bf, { scopes: ['chat'] })
  const bystander = await register(bf, { scopes: ['chat'] })
  for (let i = 0; i < 3; i++) {
    await assertOAuthError(await tokenRequest(bf, { id: victim.id, secret: `pcs_wrong${i}` }, {}, from('198.51.100.1')), 401, 'invalid_client')
  }
  await assertCoolingDown(await tokenRequest(bf, victim, {}, from('198.51.100.1')), true)
  await assertCoolingDown(await tokenRequest(bf, victim, {}, from('198.51.100.2')), true)
  assert.equal((await tokenRequest(bf, bystander, {}, from('198.51.100.2'))).status, 200, 'other clients and addresses are unaffected')
  assert.ok(bf.logs.some((line) => line.includes('"event":"auth_lockout"')), 'the lockout is logged')
})

test('brute force on the proxy: after 3 invalid keys or tokens every credential from that IP is 429', async () => {
  const key = await bf.createKey({ scopes: ['chat'] })
  secrets.push(key.secret)
  const client = await register(bf, { scopes: ['chat'] })
  const valid = await token(bf, client)
  const [header, payload, signature] = valid.split('.') as [string, string, string]
  const forged = `${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`
  const nearMiss = key.secret.slice(0, -4) + 'AAAA'
  // Presented near-misses of real credentials must not be logged either.
  secrets.push(nearMiss, forged)
  const attacker = from('198.51.100.3')
  await assertProxyError(await call(bf, nearMiss, undefined, attacker), 401, 'invalid_api_key')
  await assertProxyError(await call(bf, forged, undefined, attacker), 401, 'invalid_token')
  await assertProxyError(await call(bf, 'pcl_not_a_key', undefined, attacker), 401, 'invalid_api_key')

  await assertCoolingDown(await call(bf, key.secret, undefined, attacker), false)
  await assertCoolingDown(await call(bf, valid, undefined, attacker), false)
  await assertCoolingDown(await tokenRequest(bf, client, {}, attacker), true)
  await assertOk(await call(bf, key.secret, undefined, from('198.51.100.4')))
  await assertOk(await call(bf, valid, undefined, from('198.51.100.4')))
})

test('canary: no client secret, access token or API key in any gateway\'s logs', () => {
  assert.equal(gateways.length, 4)
  assert.ok(secrets.length > 30)
  for (const g of gateways) {
    assert.ok(g.logs.length > 3, 'trace logging produced lines to inspect')
    const logs = g.logs.join('\n')
    for (const secret of secrets) {
      for (const part of [secret, secret.split('.').at(-1) as string]) {
        assert.equal(logs.includes(part), false, `a secret (${secret.slice(0, 6)}…) reached the logs of ${g.url}`)
      }
    }
  }
})
