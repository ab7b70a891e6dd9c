import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import * as oauth from 'oauth4webapi'
import OpenAI from 'openai'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { basicAuth, startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// Third-party clients against a real gateway over HTTP: oauth4webapi as the OAuth client, jose as
// a resource server verifying our tokens, the official openai package spending them.
let gw: TestGateway
let as: oauth.AuthorizationServer
// Every secret this file sees, for the canary at the end.
const secrets: string[] = []
// The issuer is the loopback listener (plain http), which oauth4webapi refuses by default.
const insecure = { [oauth.allowInsecureRequests]: true } as const

before(async () => {
  gw = await startTestGateway({
    logLevel: 'trace',
    config: {
      // The deliberate failures of this file all come from 127.0.0.1; brute force is the lifecycle file's.
      auth: { brute_force: { max_failures: 50 } },
      // Lets one test act as a client behind a proxy (X-Forwarded-For) for the IP allowlist.
      server: { trusted_proxies: ['127.0.0.1'] }
    }
  })
  secrets.push(gw.adminKey)
  const issuer = new URL(gw.url)
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
})
after(async () => { await gw.close() })

async function client (body: Record<string, unknown> = {}): Promise<{ id: string, secret: string }> {
  const created = await gw.createClient(body)
  // The secret, and the secret as it travels in a Basic header.
  secrets.push(created.secret, basicAuth(created.id, created.secret).slice('Basic '.length))
  return created
}

async function grant (id: string, secret: string, options: { post?: boolean, scope?: string } = {}): Promise<oauth.TokenEndpointResponse> {
  const auth = options.post === true ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret)
  const params: Record<string, string> = options.scope === undefined ? {} : { scope: options.scope }
  const res = await oauth.clientCredentialsGrantRequest(as, { client_id: id }, auth, params, insecure)
  const tokens = await oauth.processClientCredentialsResponse(as, { client_id: id }, res)
  secrets.push(tokens.access_token)
  return tokens
}

function sdk (apiKey: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: gw.url + '/v1', apiKey, maxRetries: 0, defaultHeaders: headers })
}

async function rawToken (client: { id: string, secret: string }, headers: Record<string, string> = {}): Promise<Response> {
  return await gw.oauthPost('/oauth/token', client, { grant_type: 'client_credentials' }, headers)
}

async function introspect (caller: { id: string, secret: string }, token: string): Promise<Response> {
  return await gw.oauthPost('/oauth/introspect', caller, { token })
}

const hello = [{ role: 'user' as const, content: 'Hello from an OAuth client' }]

test('oauth4webapi discovers the server from RFC 8414 metadata', () => {
  assert.equal(as.issuer, gw.url)
  assert.equal(as.token_endpoint, gw.url + '/oauth/token')
  assert.equal(as.jwks_uri, gw.url + '/.well-known/jwks.json')
  assert.equal(as.revocation_endpoint, gw.url + '/oauth/revoke')
  assert.equal(as.introspection_endpoint, gw.url + '/oauth/introspect')
  assert.deepEqual(as.grant_types_supported, ['client_credentials'])
  assert.deepEqual(as.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
})

test('client_secret_basic grant: jose verifies an RFC 9068 token against the JWKS, openai spends it', async () => {
  const { id, secret } = await client({ tenant: 'acme', scopes: ['chat', 'embeddings'] })
  const tokens = await grant(id, secret, { scope: 'chat' })
  assert.equal(tokens.token_type, 'bearer')
  assert.equal(tokens.expires_in, 3600)
  assert.equal(tokens.scope, 'chat')

  const jwks = createRemoteJWKSet(new URL(as.jwks_uri as string))
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: as.issuer, audience: gw.url, typ: 'at+jwt', algorithms: ['EdDSA']
  })
  assert.equal(protectedHeader.alg, 'EdDSA')
  assert.equal(protectedHeader.typ, 'at+jwt')
  assert.match(protectedHeader.kid ?? '', /^[A-Za-z0-9_-]{43}$/, 'kid is an RFC 7638 SHA-256 thumbprint')
  for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'tenant']) {
    assert.ok(claim in payload, `claim ${claim} is present`)
  }
  assert.equal(payload.iss, gw.url)
  assert.equal(payload.sub, id)
  assert.equal(payload.client_id, id)
  assert.equal(payload.aud, gw.url)
  assert.equal(payload.scope, 'chat')
  assert.equal(payload.tenant, 'acme')
  assert.equal(payload.nbf, payload.iat)
  assert.equal((payload.exp as number) - (payload.iat as number), 3600)
  assert.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 10)
  assert.match(payload.jti ?? '', /^[0-9a-f-]{36}$/)

  const openai = sdk(tokens.access_token)
  const reply = await openai.chat.completions.create({ model: 'mock-gpt', messages: hello })
  assert.equal(reply.system_fingerprint, 'portcullis-mock')
  const expected = reply.choices[0]?.message.content ?? ''
  assert.ok(expected.length > 0)
  let streamed = ''
  for await (const chunk of await openai.chat.completions.create({ model: 'mock-gpt', messages: hello, stream: true })) {
    streamed += chunk.choices[0]?.delta.content ?? ''
  }
  assert.equal(streamed, expected, 'the stream carries the same answer')
})

test('client_secret_post grant; no scope asked gives every scope of the client', async () => {
  const { id, secret } = await client({ scopes: ['chat', 'models:read'] })
  const tokens = await grant(id, secret, { post: true })
  assert.equal(tokens.scope, 'chat models:read')
  const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: gw.url, audience: gw.url, typ: 'at+jwt' })
  assert.equal(payload.client_id, id)
  assert.equal('tenant' in payload, false, 'a client without a tenant gets no tenant claim')
  const ids = []
  for await (const model of sdk(tokens.access_token).models.list()) ids.push(model.id)
  assert.ok(ids.includes('mock-gpt'))
})

test('oauth4webapi surfaces the gateway\'s RFC 6749 errors as its own error types', async () => {
  const { id, secret } = await client({ scopes: ['chat'] })
  await assert.rejects(grant(id, secret, { scope: 'chat embeddings' }),
    (err: unknown) => err instanceof oauth.ResponseBodyError && err.status === 400 && err.error === 'invalid_scope')
  // RFC 6749 §5.2 asks for a Basic challenge on this 401; oauth4webapi reports challenges first,
  // with the response body left unread for the caller.
  let challenge: oauth.WWWAuthenticateChallengeError | undefined
  await grant(id, secret + 'x').catch((err: unknown) => { if (err instanceof oauth.WWWAuthenticateChallengeError) challenge = err })
  assert.ok(challenge !== undefined, 'a wrong secret is a WWWAuthenticateChallengeError')
  assert.equal(challenge.status, 401)
  assert.deepEqual(challenge.cause.map((c) => [c.scheme, c.parameters.realm]), [['basic', 'portcullis']])
  assert.equal((await challenge.response.json() as { error: string }).error, 'invalid_client')
})

test('RFC 7662: own token active with its claims; hidden from a peer, visible to an introspector of the tenant', async () => {
  const owner = await client({ tenant: 'acme', scopes: ['chat'] })
  const token = (await grant(owner.id, owner.secret)).access_token
  const res = await oauth.introspectionRequest(as, { client_id: owner.id }, oauth.ClientSecretBasic(owner.secret), token, insecure)
  const own = await oauth.processIntrospectionResponse(as, { client_id: owner.id }, res)
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri as string)), { issuer: gw.url, audience: gw.url })
  assert.deepEqual({ ...own }, {
    active: true, scope: 'chat', client_id: owner.id, token_type: 'Bearer', exp: payload.exp, iat: payload.iat,
    nbf: payload.nbf, sub: owner.id, aud: gw.url, iss: gw.url, jti: payload.jti, tenant: 'acme'
  })

  const peer = await client({ tenant: 'acme', scopes: ['chat'] })
  const hidden = await introspect(peer, token)
  assert.equal(hidden.status, 200)
  assert.equal(hidden.headers.get('cache-control'), 'no-store')
  assert.equal(await hidden.text(), '{"active":false}')

  const outsider = await client({ tenant: 'globex', scopes: ['oauth:introspect'] })
  assert.equal(await (await introspect(outsider, token)).text(), '{"active":false}', 'oauth:introspect stops at the tenant')

  const introspector = await client({ tenant: 'acme', scopes: ['oauth:introspect'] })
  const seen = await (await introspect(introspector, token)).json() as Record<string, unknown>
  assert.equal(seen.active, true)
  assert.equal(seen.client_id, owner.id)
  assert.equal(seen.jti, payload.jti)
})

test('signing-key rotation: earlier tokens still work, new ones carry the new kid, the JWKS lists both', async () => {
  const { id, secret } = await client({ scopes: ['chat'] })
  // Not used before the rotation, so the proxy cannot answer it from its cache of verified tokens.
  const earlier = (await grant(id, secret)).access_token
  const oldKid = decodeProtectedHeader(earlier).kid
  const rotated = await gw.admin('POST', '/admin/v1/signing-keys/rotate', {})
  assert.equal(rotated.status, 200)
  const list = await rotated.json() as { data: Array<{ kid: string, status: string }> }
  const newKid = list.data[0]?.kid
  assert.equal(list.data[0]?.status, 'current')
  assert.notEqual(newKid, oldKid)
  assert.ok(list.data.some((k) => k.kid === oldKid && k.status === 'retiring'))

  const reply = await sdk(earlier).chat.completions.create({ model: 'mock-gpt', messages: hello })
  assert.equal(reply.system_fingerprint, 'portcullis-mock')
  const later = (await grant(id, secret)).access_token
  assert.equal(decodeProtectedHeader(later).kid, newKid)
  await sdk(later).chat.completions.create({ model: 'mock-gpt', messages: hello })

  const jwksRes = await fetch(as.jwks_uri as string)
  assert.equal(jwksRes.headers.get('content-type')?.split(';')[0], 'application/jwk-set+json', 'RFC 7517 §8.5 media type')
  const jwks = await jwksRes.json() as { keys: Array<Record<string, unknown>> }
  assert.deepEqual(jwks.keys.map((k) => k.kid), [newKid, oldKid], 'current key first')
  assert.ok(jwks.keys.every((k) => !('d' in k)), 'no private member')
  // A resource server that fetches the set afresh verifies both generations.
  const remote = createRemoteJWKSet(new URL(as.jwks_uri as string))
  for (const token of [earlier, later]) await jwtVerify(token, remote, { issuer: gw.url, audience: gw.url, typ: 'at+jwt' })
})

test('a client\'s model allowlist binds its tokens', async () => {
  const { id, secret } = await client({ scopes: ['chat', 'embeddings', 'models:read'], models: ['mock-gpt'] })
  const openai = sdk((await grant(id, secret)).access_token)
  await openai.chat.completions.create({ model: 'mock-gpt', messages: hello })
  await assert.rejects(openai.embeddings.create({ model: 'mock-embedding', input: 'x' }),
    (err: unknown) => err instanceof OpenAI.PermissionDeniedError && err.code === 'model_not_allowed')
  const ids = []
  for await (const model of openai.models.list()) ids.push(model.id)
  assert.deepEqual(ids, ['mock-gpt'])
})

test('a client\'s IP allowlist: elsewhere is invalid_client like a wrong secret; its tokens stay bound to it', async () => {
  const fenced = await client({ allowed_ips: ['203.0.113.0/24'] })
  const refused = await rawToken(fenced)
  const wrong = await rawToken({ id: fenced.id, secret: fenced.secret.slice(0, -1) + (fenced.secret.endsWith('A') ? 'B' : 'A') })
  for (const res of [refused, wrong]) {
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="portcullis"')
    assert.equal(res.headers.get('cache-control'), 'no-store')
  }
  const body = await refused.json() as Record<string, unknown>
  assert.equal(body.error, 'invalid_client')
  assert.deepEqual(body, await wrong.json(), 'the allowlist is not revealed')

  // Behind the trusted proxy, from inside the range: a token, usable only from there.
  const inside = { 'x-forwarded-for': '203.0.113.7' }
  const granted = await rawToken(fenced, inside)
  assert.equal(granted.status, 200)
  const token = (await granted.json() as { access_token: string }).access_token
  secrets.push(token)
  await sdk(token, inside).chat.completions.create({ model: 'mock-gpt', messages: hello })
  await assert.rejects(sdk(token).chat.completions.create({ model: 'mock-gpt', messages: hello }),
    (err: unknown) => err instanceof OpenAI.PermissionDeniedError && err.code === 'ip_not_allowed')

  const local = await client({ allowed_ips: ['127.0.0.1'] })
  const reply = await sdk((await grant(local.id, local.secret)).access_token).chat.completions.create({ model: 'mock-gpt', messages: hello })
  assert.equal(reply.system_fingerprint, 'portcullis-mock')
})

test('canary: no client secret, access token or admin key in any log line', () => {
  // Only proxy requests are logged (one line each); the OAuth and admin endpoints write none.
  assert.ok(gw.logs.filter((line) => line.includes('"client_id":"cli_')).length >= 10, 'token-authenticated requests were logged')
  assert.ok(secrets.length > 15)
  const logs = gw.logs.join('\n')
  for (const secret of secrets) {
    // A token's signature alone would be enough to spot a leak that cut the rest off.
    for (const part of [secret, secret.split('.').at(-1) as string]) {
      assert.equal(logs.includes(part), false, `a secret (${secret.slice(0, 6)}…) reached the logs`)
    }
  }
})
