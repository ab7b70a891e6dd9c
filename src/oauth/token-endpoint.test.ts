import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { createClientAuthenticator } from './client-authentication.ts'
import { hashClientSecret } from './client-secret.ts'
import type { OAuthResponse } from './oauth-response.ts'
import { audience, basicAuth, fastScrypt, formEncode, issuer, jsonBody, oauthFixture, request } from './oauth-test-fixture.ts'
import { createTokenEndpoint, grantedScope } from './token-endpoint.ts'

const grant = { grant_type: 'client_credentials' }
const noStore = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' }

function assertOAuthError (response: OAuthResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.body)
  const headers = status === 401 ? { ...noStore, 'www-authenticate': 'Basic realm="portcullis"' } : noStore
  assert.deepEqual(response.headers, headers)
  const body = jsonBody(response)
  assert.deepEqual(Object.keys(body), ['error', 'error_description'])
  assert.equal(body.error, code)
  // RFC 6749 §5.2: error_description is printable ASCII without " and \.
  assert.match(String(body.error_description), /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/)
}

test('client_secret_basic: 200 with the RFC 6749 §5.1 body and no-store headers; the token verifies', async () => {
  const fx = await oauthFixture()
  const response = await fx.token(request(grant, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(response.status, 200)
  assert.deepEqual(response.headers, noStore)
  const body = jsonBody(response)
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  assert.equal(body.token_type, 'Bearer')
  assert.equal(body.expires_in, 3600)
  assert.equal(body.scope, 'chat embeddings models:read')
  const { payload } = await jwtVerify(String(body.access_token), createLocalJWKSet(fx.ring.jwks()), { typ: 'at+jwt', issuer, audience })
  assert.deepEqual([payload.sub, payload.client_id, payload.tenant, payload.scope], ['client_a', 'client_a', 'acme', 'chat embeddings models:read'])
})

test('client_secret_post works, and so does Basic with a matching client_id in the body', async () => {
  const fx = await oauthFixture()
  const post = await fx.token(request({ ...grant, client_id: fx.clientId, client_secret: fx.secret }))
  assert.equal(post.status, 200, post.body)
  const both = await fx.token(request({ ...grant, client_id: fx.clientId }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(both.status, 200, both.body)
})

test('Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1): special characters work', async () => {
  const fx = await oauthFixture()
  const id = 'svc:ü+1 %x'
  const secret = 'p@ss:w+rd%2F/ü "quoted" \\ =&'
  await fx.addClient({ id }, secret)
  const response = await fx.token(request(grant, { authorization: basicAuth(id, secret) }))
  assert.equal(response.status, 200, response.body)
  assert.equal(jsonBody(response).token_type, 'Bearer')
  // Without the encoding, "+" decodes to a space and the secret no longer matches.
  const raw = 'Basic ' + Buffer.from(formEncode(id) + ':' + secret).toString('base64')
  assertOAuthError(await fx.token(request(grant, { authorization: raw })), 401, 'invalid_client')
  // Generated secrets (base64url) survive a client that forgets the encoding.
  const unencoded = 'Basic ' + Buffer.from(fx.clientId + ':' + fx.secret).toString('base64')
  assert.equal((await fx.token(request(grant, { authorization: unencoded }))).status, 200)
  const lower = 'basic  ' + Buffer.from(fx.clientId + ':' + fx.secret).toString('base64')
  assert.equal((await fx.token(request(grant, { authorization: lower }))).status, 200, 'the scheme is case-insensitive')
})

test('scope is a down-selection of the client scopes (RFC 6749 §3.3)', async () => {
  const fx = await oauthFixture()
  const ask = async (scope: string): Promise<OAuthResponse> =>
    await fx.token(request({ ...grant, scope }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  const chat = await ask('chat')
  assert.equal(jsonBody(chat).scope, 'chat')
  const { payload } = await jwtVerify(String(jsonBody(chat).access_token), createLocalJWKSet(fx.ring.jwks()))
  assert.equal(payload.scope, 'chat')
  assert.equal(jsonBody(await ask('embeddings chat embeddings')).scope, 'embeddings chat')
  assert.equal(jsonBody(await ask('')).scope, 'chat embeddings models:read', 'an empty scope counts as omitted (§3.1)')
  for (const scope of ['admin', 'chat admin', 'chat  embeddings', ' chat', 'chat\tembeddings', 'ch"at', 'ü']) {
    assertOAuthError(await ask(scope), 400, 'invalid_scope')
  }
  assert.deepEqual(grantedScope(null, ['a', 'b']), ['a', 'b'])
  assert.equal(grantedScope('c', ['a', 'b']), null)
})

test('every error path: exact status, body and headers (RFC 6749 §5.2)', async () => {
  const fx = await oauthFixture()
  const basic = basicAuth(fx.clientId, fx.secret)
  const cases: Array<[string, Parameters<typeof request>[0], Parameters<typeof request>[1], number, string]> = [
    ['no grant_type', {}, { authorization: basic }, 400, 'invalid_request'],
    ['empty grant_type', { grant_type: '' }, { authorization: basic }, 400, 'invalid_request'],
    ['repeated grant_type', { grant_type: ['client_credentials', 'client_credentials'] }, { authorization: basic }, 400, 'invalid_request'],
    ['password grant', { grant_type: 'password' }, { authorization: basic }, 400, 'unsupported_grant_type'],
    ['authorization_code grant', { grant_type: 'authorization_code' }, {}, 400, 'unsupported_grant_type'],
    ['repeated scope', { ...grant, scope: ['chat', 'chat'] }, { authorization: basic }, 400, 'invalid_request'],
    ['two methods at once', { ...grant, client_id: fx.clientId, client_secret: fx.secret }, { authorization: basic }, 400, 'invalid_request'],
    ['body client_id differs', { ...grant, client_id: 'client_b' }, { authorization: basic }, 400, 'invalid_request'],
    ['secret without id', { ...grant, client_secret: fx.secret }, {}, 400, 'invalid_request'],
    ['repeated client_id', { ...grant, client_id: [fx.clientId, fx.clientId], client_secret: fx.secret }, {}, 400, 'invalid_request'],
    ['two Authorization headers', grant, { authorization: [basic, basic] }, 400, 'invalid_request'],
    ['no client authentication', grant, {}, 401, 'invalid_client'],
    ['client_id alone', { ...grant, client_id: fx.clientId }, {}, 401, 'invalid_client'],
    ['Bearer scheme', grant, { authorization: 'Bearer ' + fx.secret }, 401, 'invalid_client'],
    ['Basic without credentials', grant, { authorization: 'Basic' }, 401, 'invalid_client'],
    ['Basic not base64', grant, { authorization: 'Basic ***' }, 401, 'invalid_client'],
    ['Basic without colon', grant, { authorization: 'Basic ' + Buffer.from(fx.clientId).toString('base64') }, 401, 'invalid_client'],
    ['Basic empty id', grant, { authorization: 'Basic ' + Buffer.from(':' + fx.secret).toString('base64') }, 401, 'invalid_client'],
    ['Basic bad escape', grant, { authorization: 'Basic ' + Buffer.from(fx.clientId + ':%zz').toString('base64') }, 401, 'invalid_client'],
    ['Basic wrong secret', grant, { authorization: basicAuth(fx.clientId, fx.secret + 'x') }, 401, 'invalid_client'],
    ['post wrong secret', { ...grant, client_id: fx.clientId, client_secret: 'pcs_wrong' }, {}, 401, 'invalid_client'],
    ['unknown client', grant, { authorization: basicAuth('client_zz', fx.secret) }, 401, 'invalid_client'],
    ['oversized id', grant, { authorization: basicAuth('x'.repeat(300), fx.secret) }, 401, 'invalid_client'],
    ['invalid scope', { ...grant, scope: 'admin' }, { authorization: basic }, 400, 'invalid_scope']
  ]
  for (const [name, form, headers, status, code] of cases) {
    await test(name, async () => assertOAuthError(await fx.token(request(form, headers)), status, code))
  }
})

test('unknown client, wrong secret and disabled client give the same answer, each after one lookup and one scrypt', async () => {
  const fx = await oauthFixture()
  await fx.addClient({ id: 'client_off', disabled: true }, 'pcs_disabled_secret')
  const answers = [
    await fx.token(request(grant, { authorization: basicAuth('client_zz', fx.secret) })),
    await fx.token(request(grant, { authorization: basicAuth(fx.clientId, 'pcs_nope') })),
    await fx.token(request(grant, { authorization: basicAuth('client_off', 'pcs_disabled_secret') }))
  ]
  assert.deepEqual(answers[1], answers[0])
  assert.deepEqual(answers[2], answers[0])
  assert.deepEqual(fx.lookups, ['client_zz', fx.clientId, 'client_off'])
})

test('an unknown id costs about as much time as a wrong secret (dummy hash at the same cost)', async () => {
  const fx = await oauthFixture()
  const params = { ln: 12, r: 8, p: 1 }
  await fx.addClient({ id: 'client_slow', secretHash: await hashClientSecret('pcs_right', params) })
  const authenticateClient = createClientAuthenticator({ findClient: (id) => fx.clients.get(id) ?? null, scryptParams: params })
  const token = createTokenEndpoint({ ring: fx.ring, issuer, audience, authenticateClient })
  const median = async (id: string): Promise<number> => {
    const times: number[] = []
    for (let i = 0; i < 7; i++) {
      const start = performance.now()
      assert.equal((await token(request(grant, { authorization: basicAuth(id, 'pcs_wrong') }))).status, 401)
      times.push(performance.now() - start)
    }
    return times.sort((a, b) => a - b)[3] ?? 0
  }
  await median('client_slow')
  const known = await median('client_slow')
  const unknown = await median('client_unknown')
  // Without the dummy hash an unknown id answers ~200x faster than a wrong secret. A one-sided
  // bound with a 4x margin catches that and stays clear of CI noise (a two-sided band did not).
  assert.ok(unknown > known * 0.25, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`)
})

test('rotation: the previous secret is accepted until previousExpiresAt, then refused', async () => {
  const fx = await oauthFixture()
  let now = 1_000
  const authenticateClient = createClientAuthenticator({ findClient: (id) => fx.clients.get(id) ?? null, scryptParams: fastScrypt, now: () => now })
  const token = createTokenEndpoint({ ring: fx.ring, issuer, audience, authenticateClient })
  const fresh = await fx.addClient({ id: 'client_r' }, 'pcs_new')
  const current = fx.clients.get('client_r')
  assert.ok(current !== undefined)
  fx.clients.set('client_r', { ...current, previousSecretHash: await hashClientSecret('pcs_old', fastScrypt), previousExpiresAt: 2_000 })
  assert.equal((await token(request(grant, { authorization: basicAuth('client_r', 'pcs_old') }))).status, 200)
  assert.equal((await token(request(grant, { authorization: basicAuth('client_r', fresh) }))).status, 200)
  now = 2_000
  assertOAuthError(await token(request(grant, { authorization: basicAuth('client_r', 'pcs_old') })), 401, 'invalid_client')
  assert.equal((await token(request(grant, { authorization: basicAuth('client_r', fresh) }))).status, 200)
})

test('the factory refuses a lifetime longer than the ring allows', async () => {
  const fx = await oauthFixture()
  assert.throws(() => createTokenEndpoint({ ring: fx.ring, issuer, audience, authenticateClient: fx.authenticateClient, lifetimeSeconds: 3601 }), /token lifetime/)
  assert.throws(() => createTokenEndpoint({ ring: fx.ring, issuer: '', audience, authenticateClient: fx.authenticateClient }), /issuer/)
})
