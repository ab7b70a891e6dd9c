import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { pino } from 'pino'
import { createFailedAuthThrottle } from '../auth/failed-auth-throttle.ts'
import { createClientIpResolver } from '../edge/client-ip.ts'
import { compileIpList } from '../lib/ip-list.ts'
import { createAccessTokenVerifier } from '../oauth/access-token.ts'
import { authorizationServerMetadata } from '../oauth/authorization-server-metadata.ts'
import { createClientAuthenticator } from '../oauth/client-authentication.ts'
import type { OAuthClient } from '../oauth/client-authentication.ts'
import { hashClientSecret } from '../oauth/client-secret.ts'
import { createIntrospectionEndpoint } from '../oauth/introspection.ts'
import { audience, basicAuth, fastScrypt, issuer } from '../oauth/oauth-test-fixture.ts'
import { openPersistentTokenDenyList } from '../oauth/persistent-token-deny-list.ts'
import { createRevocationEndpoint } from '../oauth/revocation.ts'
import { openSigningKeyManager } from '../oauth/signing-key-manager.ts'
import type { SigningKeyManager } from '../oauth/signing-key-manager.ts'
import { tempSqliteStore } from '../oauth/sqlite-store-fixture.ts'
import { createTokenEndpoint } from '../oauth/token-endpoint.ts'
import { buildServer, type GatewayServer } from './build-server.ts'
import { collectingEvidenceSink } from '../audit/evidence-sink.ts'
import { oauthBodyLimitBytes, registerOAuthRoutes, type OAuthRouteDeps } from './oauth-routes.ts'

const secret = 'pcs_canary_' + randomBytes(24).toString('base64url')
const form = 'application/x-www-form-urlencoded'
const noStore = { 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json;charset=UTF-8' }

interface Harness {
  readonly server: GatewayServer
  readonly url: string
  readonly manager: SigningKeyManager
  readonly clock: { now: number }
  readonly logs: string[]
  post (path: string, body: string, headers?: Record<string, string>): Promise<Response>
}

/** The real server (build-server.ts) with the OAuth routes on a real SQLite store, listening on 127.0.0.1:0. */
async function harness (t: TestContext, overrides: Partial<OAuthRouteDeps> = {}): Promise<Harness> {
  const { store } = await tempSqliteStore(t)
  const clock = { now: Date.now() }
  const manager = await openSigningKeyManager({ store: store.signingKeys, masterKey: randomBytes(32), algorithm: 'EdDSA', maxTokenLifetimeSeconds: 3600, now: () => clock.now })
  const secretHash = await hashClientSecret(secret, fastScrypt)
  const clients = new Map<string, OAuthClient>([
    ['client_a', { id: 'client_a', secretHash, scopes: ['chat'], tenant: 'acme', disabled: false }],
    ['client_ip', { id: 'client_ip', secretHash, scopes: ['chat'], tenant: null, disabled: false, allowedIps: compileIpList(['203.0.113.7'], 'allowed_ips') }]
  ])
  const authenticateClient = createClientAuthenticator({ findClient: (id) => clients.get(id) ?? null, scryptParams: fastScrypt })
  const verifyToken = createAccessTokenVerifier(manager.ring, { issuer, audience })
  const denyList = await openPersistentTokenDenyList({ store: store.revokedTokens })
  const logs: string[] = []
  const server = await buildServer({
    logger: pino({ level: 'info' }, { write: (line: string) => { logs.push(line) } }),
    maxBodyBytes: 1 << 20, keepAliveTimeoutMs: 5000, stages: [], readiness: {}
  })
  await registerOAuthRoutes(server.app, {
    tokenEndpoint: createTokenEndpoint({ ring: manager.ring, issuer, audience, authenticateClient, lifetimeSeconds: 600 }),
    revocationEndpoint: createRevocationEndpoint({ authenticateClient, verifyToken, denyList }),
    introspectionEndpoint: createIntrospectionEndpoint({ authenticateClient, verifyToken, denyList }),
    metadata: authorizationServerMetadata({ issuer, scopesSupported: ['chat'] }),
    jwks: () => manager.ring.jwks(),
    throttle: createFailedAuthThrottle({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: 30 }),
    // The test client is the trusted proxy, so X-Forwarded-For picks the client address.
    resolveClientIp: createClientIpResolver(['127.0.0.1']),
    audit: collectingEvidenceSink(),
    ...overrides
  })
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => {
    denyList.close()
    await server.app.close()
  })
  const post = async (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    await fetch(url + path, { method: 'POST', headers: { 'content-type': form, ...headers }, body })
  return { server, url, manager, clock, logs, post }
}

async function assertOAuthError (response: Response, status: number, error: string): Promise<Record<string, unknown>> {
  const body = await response.json() as Record<string, unknown>
  assert.equal(response.status, status, JSON.stringify(body))
  assert.deepEqual(Object.keys(body), ['error', 'error_description'])
  assert.equal(body.error, error)
  for (const [name, value] of Object.entries(noStore)) assert.equal(response.headers.get(name), value, name)
  assert.match(response.headers.get('x-request-id') ?? '', /^req_/)
  return body
}

const grant = 'grant_type=client_credentials'
const basic = basicAuth('client_a', secret)

test('an OAuth client library gets, introspects and revokes a token; resource servers find the keys', async (t) => {
  const h = await harness(t)
  const as: oauth.AuthorizationServer = {
    issuer, token_endpoint: h.url + '/oauth/token', revocation_endpoint: h.url + '/oauth/revoke', introspection_endpoint: h.url + '/oauth/introspect'
  }
  const client: oauth.Client = { client_id: 'client_a' }
  const insecure = { [oauth.allowInsecureRequests]: true }
  const issued = await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), { scope: 'chat' }, insecure))
  assert.deepEqual([issued.token_type, issued.expires_in, issued.scope], ['bearer', 600, 'chat'])
  const { payload } = await jwtVerify(issued.access_token, createRemoteJWKSet(new URL(h.url + '/.well-known/jwks.json')), { issuer, audience, typ: 'at+jwt' })
  assert.equal(payload.client_id, 'client_a')

  const introspected = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, oauth.ClientSecretPost(secret), issued.access_token, insecure))
  assert.deepEqual([introspected.active, introspected.client_id], [true, 'client_a'])
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.ClientSecretBasic(secret), issued.access_token, insecure))
  const after = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(secret), issued.access_token, insecure))
  assert.equal(after.active, false)

  const token = await h.post('/oauth/token', grant, { authorization: basic })
  for (const [name, value] of Object.entries(noStore)) assert.equal(token.headers.get(name), value, name)
  assert.ok(!(await token.text()).includes(secret))
  const jwks = await fetch(h.url + '/.well-known/jwks.json')
  assert.match(jwks.headers.get('content-type') ?? '', /^application\/jwk-set\+json\b/)
  assert.equal(jwks.headers.get('cache-control'), 'public, max-age=300')
  assert.doesNotMatch(await jwks.text(), /"d"/)
  const metadata = await fetch(h.url + '/.well-known/oauth-authorization-server')
  assert.equal(metadata.headers.get('cache-control'), 'public, max-age=300')
  assert.deepEqual(await metadata.json(), JSON.parse(JSON.stringify(authorizationServerMetadata({ issuer, scopesSupported: ['chat'] }))))
  assert.equal((await fetch(h.url + '/.well-known/jwks.json', { method: 'HEAD' })).status, 200)
})

test('rotation over HTTP: old tokens still introspect active, new ones carry the new kid, the JWKS drops the old key after retire_after', async (t) => {
  const h = await harness(t)
  const tokenOf = async (): Promise<string> => String((await (await h.post('/oauth/token', grant, { authorization: basic })).json() as Record<string, unknown>).access_token)
  const oldKid = h.manager.ring.current().kid
  const before = await tokenOf()
  const rotated = await h.manager.rotate()
  const after = await tokenOf()
  assert.equal(decodeProtectedHeader(before).kid, oldKid)
  assert.equal(decodeProtectedHeader(after).kid, rotated.kid)
  const kids = async (): Promise<unknown[]> => ((await (await fetch(h.url + '/.well-known/jwks.json')).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)
  assert.deepEqual(await kids(), [rotated.kid, oldKid])
  const active = await (await h.post('/oauth/introspect', `token=${before}`, { authorization: basic })).json() as Record<string, unknown>
  assert.equal(active.active, true)
  h.clock.now += 3_600_000
  assert.deepEqual(await kids(), [rotated.kid])
})

test('the body must be a form of at most 16 KiB with no repeated parameter: every refusal in the OAuth format', async (t) => {
  const h = await harness(t)
  const json = await fetch(h.url + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"grant_type":"client_credentials"}' })
  await assertOAuthError(json, 400, 'invalid_request')
  await assertOAuthError(await h.post('/oauth/token', grant, { 'content-type': 'text/plain', authorization: basic }), 400, 'invalid_request')
  await assertOAuthError(await fetch(h.url + '/oauth/revoke', { method: 'POST', headers: { authorization: basic } }), 400, 'invalid_request')
  const repeated = await assertOAuthError(await h.post('/oauth/token', grant + '&' + grant, { authorization: basic }), 400, 'invalid_request')
  assert.match(String(repeated.error_description), /more than once/)
  await assertOAuthError(await h.post('/oauth/introspect', 'token=a&token=b', { authorization: basic }), 400, 'invalid_request')

  const padding = (length: number): string => grant + '&pad=' + 'x'.repeat(length - grant.length - 5)
  const atLimit = await h.post('/oauth/token', padding(oauthBodyLimitBytes), { authorization: basic, 'content-type': form + '; charset=utf-8' })
  assert.equal(atLimit.status, 200)
  const tooLarge = await assertOAuthError(await h.post('/oauth/token', padding(oauthBodyLimitBytes + 1), { authorization: basic }), 413, 'invalid_request')
  assert.match(String(tooLarge.error_description), /16384 bytes/)
  // A parameter named like an Object.prototype member is only a name.
  await assertOAuthError(await h.post('/oauth/token', '__proto__=x&constructor=y', { authorization: basic }), 400, 'invalid_request')
})

test('wrong methods get 405 with Allow, in the OAuth format, before any body is read', async (t) => {
  const h = await harness(t)
  const get = await fetch(h.url + '/oauth/token')
  assert.equal(get.headers.get('allow'), 'POST')
  await assertOAuthError(get, 405, 'invalid_request')
  const put = await fetch(h.url + '/oauth/revoke', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })
  assert.equal(put.headers.get('allow'), 'POST')
  await assertOAuthError(put, 405, 'invalid_request')
  const postJwks = await h.post('/.well-known/jwks.json', 'a=b')
  assert.equal(postJwks.headers.get('allow'), 'GET, HEAD')
  await assertOAuthError(postJwks, 405, 'invalid_request')
})

test('brute force: after 3 invalid_client answers the source gets 429, even with the right secret', async (t) => {
  const h = await harness(t)
  const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip })
  for (let i = 0; i < 3; i++) {
    await assertOAuthError(await h.post('/oauth/token', grant, { authorization: basicAuth('client_a', 'pcs_wrong'), ...from('198.51.100.1') }), 401, 'invalid_client')
  }
  const locked = await h.post('/oauth/token', grant, { authorization: basic, ...from('198.51.100.1') })
  const body = await assertOAuthError(locked, 429, 'too_many_failed_attempts')
  assert.ok(!JSON.stringify(body).includes(secret))
  assert.ok(Number(locked.headers.get('retry-after')) >= 1)
  // The client id is locked too (counted from the Basic header), from any address, by either method...
  await assertOAuthError(await h.post('/oauth/token', `${grant}&client_id=client_a&client_secret=${secret}`, from('192.0.2.9')), 429, 'too_many_failed_attempts')
  await assertOAuthError(await h.post('/oauth/introspect', 'token=x', { authorization: basic, ...from('192.0.2.9') }), 429, 'too_many_failed_attempts')
  // ...while another client from another address is unaffected.
  const other = await h.post('/oauth/token', grant, { authorization: basicAuth('client_ip', secret), ...from('203.0.113.7') })
  assert.equal(other.status, 200)
})

test('a client with allowed IPs gets invalid_client from elsewhere, and the failure counts', async (t) => {
  const h = await harness(t)
  const ipClient = basicAuth('client_ip', secret)
  assert.equal((await h.post('/oauth/token', grant, { authorization: ipClient, 'x-forwarded-for': '203.0.113.7' })).status, 200)
  const outside = await assertOAuthError(await h.post('/oauth/token', grant, { authorization: ipClient, 'x-forwarded-for': '198.51.100.2' }), 401, 'invalid_client')
  // The answer of a wrong secret, word for word: the list is not revealed.
  assert.deepEqual(outside, { error: 'invalid_client', error_description: 'Client authentication failed.' })
  await h.post('/oauth/token', grant, { authorization: ipClient, 'x-forwarded-for': '198.51.100.2' })
  await h.post('/oauth/token', grant, { authorization: ipClient, 'x-forwarded-for': '198.51.100.2' })
  await assertOAuthError(await h.post('/oauth/token', grant, { authorization: ipClient, 'x-forwarded-for': '203.0.113.7' }), 429, 'too_many_failed_attempts')
})

test('an internal failure is a logged OAuth server_error; a draining server answers temporarily_unavailable', async (t) => {
  const h = await harness(t, { tokenEndpoint: async () => { throw new Error('store exploded near ' + secret) } })
  const failed = await assertOAuthError(await h.post('/oauth/token', grant, { authorization: basic }), 500, 'server_error')
  assert.ok(!JSON.stringify(failed).includes('exploded'))
  assert.ok(h.logs.some((line) => line.includes('unhandled error')))
  h.server.startDraining()
  await assertOAuthError(await h.post('/oauth/token', grant, { authorization: basic }), 503, 'temporarily_unavailable')
})
