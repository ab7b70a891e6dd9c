import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { errorCatalogue } from '../../src/errors/error-catalogue.ts'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import {
  base64urlJson, generateSigningKey, hmacWithPublicKey, signRaw, startTestIdentityProvider, unsignedToken,
  type SigningKey, type TestIdentityProvider
} from '../helpers/test-identity-provider.ts'

// Strict verification of external tokens through the real gateway: every token below is valid but
// for the one rule its test names, and every refusal must look exactly alike (no oracle).

const AUDIENCE = 'portcullis-test'
const SKEW = 30
const MAX_TOKEN_BYTES = 1024
let idp: TestIdentityProvider
let legacy: TestIdentityProvider
let attacker: TestIdentityProvider
let es: SigningKey
let rsa: SigningKey
let ed: SigningKey
let legacyKey: SigningKey
let gw: TestGateway
const sent: string[] = []

before(async () => {
  [es, rsa, ed, legacyKey] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('RS256'), generateSigningKey('EdDSA'), generateSigningKey('ES256')])
  // EdDSA is published by the IdP but not in the issuer's allowlist.
  idp = await startTestIdentityProvider({ realm: 'acme', keys: [es, rsa, ed] })
  legacy = await startTestIdentityProvider({ realm: 'legacy', keys: [legacyKey] })
  attacker = await startTestIdentityProvider({ realm: 'evil', keys: [await generateSigningKey('ES256')] })
  gw = await startTestGateway({
    logLevel: 'debug',
    config: {
      auth: { max_token_bytes: MAX_TOKEN_BYTES, brute_force: { max_failures: 1000 } },
      trusted_issuers: [
        {
          issuer: idp.issuer,
          audience: AUDIENCE,
          jwks_uri: idp.jwksUri,
          algorithms: ['RS256', 'ES256'],
          clock_skew_seconds: SKEW,
          claims: { client_id: 'azp', tenant: 'tenant_id', roles: 'realm_access.roles' },
          jwks_refresh_interval_seconds: 60
        },
        // Keycloak and Entra ID send `typ: JWT`; this issuer is configured to accept it.
        { issuer: legacy.issuer, audience: AUDIENCE, jwks_uri: legacy.jwksUri, algorithms: ['ES256'], typ: ['at+jwt', 'JWT'] }
      ]
    }
  })
})
after(async () => {
  await gw.close()
  await Promise.all([idp.close(), legacy.close(), attacker.close()])
})

const now = (): number => Math.floor(Date.now() / 1000)

function claims (extra: JWTPayload = {}, issuer = idp.issuer): JWTPayload {
  const t = now()
  return { iss: issuer, aud: AUDIENCE, sub: 'alice', azp: 'portal', tenant_id: 'acme', realm_access: { roles: ['user'] }, iat: t, exp: t + 300, jti: randomUUID(), ...extra }
}

function without (payload: JWTPayload, name: string): JWTPayload {
  const copy = { ...payload }
  delete copy[name]
  return copy
}

async function chat (token: string): Promise<Response> {
  sent.push(token)
  return await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] })
  })
}

async function assertAccepted (token: string): Promise<void> {
  const res = await chat(token)
  const body = await res.json() as { object?: string }
  assert.equal(res.status, 200, JSON.stringify(body))
  assert.equal(body.object, 'chat.completion')
}

/** 401 with the catalogue's one body and the RFC 6750 §3.1 challenge: nothing tells one reason from another. */
async function assertRefused (token: string): Promise<void> {
  const res = await chat(token)
  const body = await res.json()
  assert.equal(res.status, 401, JSON.stringify(body))
  assert.deepEqual(body, { error: { message: errorCatalogue.invalid_token.message, type: 'authentication_error', param: null, code: 'invalid_token' } })
  assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
}

test('controls: the base token, signed with ES256 or RS256, is accepted', async () => {
  await assertAccepted(await idp.sign(es, claims()))
  await assertAccepted(await idp.sign(rsa, claims()))
  // The raw signer behind the forged headers below makes tokens the gateway accepts.
  await assertAccepted(await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt' }, claims()))
  await assertAccepted(await signRaw(rsa, { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' }, claims()))
  // aud may be a list naming us among others (RFC 7519 §4.1.3).
  await assertAccepted(await idp.sign(es, claims({ aud: ['other-api', AUDIENCE] })))
})

test('time claims are accepted within the clock skew', async () => {
  await assertAccepted(await idp.sign(es, claims({ exp: now() - SKEW + 10 })))
  await assertAccepted(await idp.sign(es, claims({ nbf: now() + SKEW - 10 })))
  await assertAccepted(await idp.sign(es, claims({ iat: now() + SKEW - 10 })))
})

test('typ JWT is accepted from an issuer that lists it', async () => {
  await assertAccepted(await legacy.sign(legacyKey, claims({ scope: 'chat' }, legacy.issuer), { typ: 'JWT' }))
})

// Correctly signed by a published, allowed key; one claim or header is wrong.
const badClaims: Array<[string, () => Promise<string>]> = [
  ['wrong iss', async () => await idp.sign(es, claims({ iss: 'https://idp.example.com/realms/acme' }))],
  ['iss of another trusted issuer (borrowing its keys)', async () => await idp.sign(es, claims({}, legacy.issuer))],
  ['missing iss', async () => await idp.sign(es, without(claims(), 'iss'))],
  ['wrong aud', async () => await idp.sign(es, claims({ aud: 'another-api' }))],
  ['missing aud', async () => await idp.sign(es, without(claims(), 'aud'))],
  ['missing exp', async () => await idp.sign(es, without(claims(), 'exp'))],
  ['expired beyond the clock skew', async () => await idp.sign(es, claims({ exp: now() - SKEW - 60 }))],
  ['nbf in the future beyond the skew', async () => await idp.sign(es, claims({ nbf: now() + SKEW + 60 }))],
  ['iat in the future beyond the skew', async () => await idp.sign(es, claims({ iat: now() + SKEW + 60 }))],
  ['missing sub', async () => await idp.sign(es, without(claims(), 'sub'))],
  ['missing tenant claim although one is configured', async () => await idp.sign(es, without(claims(), 'tenant_id'))],
  ['typ JWT where only at+jwt is accepted', async () => await idp.sign(es, claims(), { typ: 'JWT' })],
  ['no typ', async () => await signRaw(es, { alg: 'ES256', kid: es.kid }, claims())],
  ['unknown crit header', async () => await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt', crit: ['urn:example:ext'], 'urn:example:ext': true }, claims())],
  ['jwk header (the token brings its own key)', async () => await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt', jwk: attacker.keys[0]?.publicJwk }, claims())],
  ['jku header', async () => await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt', jku: attacker.jwksUri }, claims())],
  ['x5u header', async () => await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt', x5u: attacker.origin + '/cert.pem' }, claims())],
  ['x5c header', async () => await signRaw(es, { alg: 'ES256', kid: es.kid, typ: 'at+jwt', x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }, claims())]
]

for (const [rule, mint] of badClaims) {
  test(`refused, correctly signed: ${rule}`, async () => { await assertRefused(await mint()) })
}

const forgeries: Array<[string, () => Promise<string>]> = [
  ['alg none, empty signature', async () => unsignedToken({ alg: 'none', typ: 'at+jwt' }, claims())],
  ['alg none carrying a real signature', async () => {
    const real = (await idp.sign(es, claims())).split('.')[2] as string
    return unsignedToken({ alg: 'none', kid: es.kid, typ: 'at+jwt' }, claims(), real)
  }],
  ['HS256 keyed with the RSA public key (key confusion)', async () => await hmacWithPublicKey(rsa, { kid: rsa.kid, typ: 'at+jwt' }, claims())],
  ['algorithm outside the issuer allowlist (EdDSA, key published)', async () => await idp.sign(ed, claims())],
  ['signed by an unpublished key under a published kid', async () => {
    const rogue = await generateSigningKey('ES256', es.kid)
    return await idp.sign(rogue, claims())
  }],
  ['tampered payload', async () => {
    const [header, , signature] = (await idp.sign(es, claims())).split('.')
    return `${header}.${base64urlJson(claims({ realm_access: { roles: ['admin'] } }))}.${signature}`
  }]
]

for (const [rule, mint] of forgeries) {
  test(`refused, forged: ${rule}`, async () => { await assertRefused(await mint()) })
}

test('a token-supplied key location is never fetched', () => {
  assert.equal(attacker.jwksRequests, 0)
})

/** A correctly signed token padded to the longest length ≤ `target` (ES256 signatures are 86 characters). */
async function paddedToken (target: number): Promise<string> {
  const header = base64urlJson({ alg: 'ES256', kid: es.kid, typ: 'at+jwt' })
  const base = claims()
  let pad = 0
  const length = (n: number): number => header.length + 1 + base64urlJson({ ...base, pad: 'x'.repeat(n) }).length + 1 + 86
  while (length(pad + 1) <= target) pad++
  return await idp.sign(es, { ...base, pad: 'x'.repeat(pad) })
}

test(`auth.max_token_bytes (${MAX_TOKEN_BYTES}): a valid token one byte too long is refused`, async () => {
  const fits = await paddedToken(MAX_TOKEN_BYTES)
  assert.ok(fits.length > MAX_TOKEN_BYTES - 3 && fits.length <= MAX_TOKEN_BYTES, `length ${fits.length}`)
  await assertAccepted(fits)
  const tooLong = await paddedToken(MAX_TOKEN_BYTES + 3)
  assert.ok(tooLong.length > MAX_TOKEN_BYTES, `length ${tooLong.length}`)
  await assertRefused(tooLong)
  // Far too long and not even decodable: refused the same way, without a 500.
  await assertRefused('eyJ' + 'A'.repeat(6000) + '.eyJ9.c2ln')
})

test('canary: no token sent appears in the debug log', () => {
  assert.ok(gw.logs.length > 20, 'debug logging produced lines to inspect')
  const logs = gw.logs.join('\n')
  for (const token of sent) {
    assert.ok(!logs.includes(token), 'a token reached the log')
    const signature = token.split('.')[2] ?? ''
    if (signature.length >= 40) assert.ok(!logs.includes(signature), 'a token signature reached the log')
  }
})
