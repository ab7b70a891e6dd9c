import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { SignJWT, UnsecuredJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { issueAccessToken, verifyAccessToken } from './access-token.ts'
import { audience, issuer } from './oauth-test-fixture.ts'
import { generateSigningKey, loadSigningKeyRing } from './signing-keys.ts'
import type { SigningAlgorithm, SigningKeyRing } from './signing-keys.ts'

async function ring (alg: SigningAlgorithm = 'EdDSA'): Promise<SigningKeyRing> {
  const masterKey = randomBytes(32)
  return await loadSigningKeyRing({ masterKey, keys: [await generateSigningKey(masterKey, alg)], maxTokenLifetimeSeconds: 7200 })
}

const input = { issuer, audience, subject: 'client_a', clientId: 'client_a', scope: ['chat', 'embeddings'], tenant: 'acme' }

test('issue → jose jwtVerify against the published JWKS: RFC 9068 header and claims', async () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const keys = await ring(alg)
    const issued = await issueAccessToken(keys, input)
    assert.equal(issued.expiresIn, 3600)
    const { payload, protectedHeader } = await jwtVerify(issued.token, createLocalJWKSet(keys.jwks()), {
      typ: 'at+jwt', issuer, audience, algorithms: [alg]
    })
    assert.deepEqual(protectedHeader, { alg, kid: keys.current().kid, typ: 'at+jwt' })
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'tenant'])
    assert.equal(payload.sub, 'client_a')
    assert.equal(payload.client_id, 'client_a')
    assert.equal(payload.scope, 'chat embeddings')
    assert.equal(payload.tenant, 'acme')
    assert.equal(payload.jti, issued.jti)
    assert.equal(payload.nbf, payload.iat)
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600)
  }
})

test('verifyAccessToken returns typed claims; a null tenant is left out of the token', async () => {
  const keys = await ring()
  const issued = await issueAccessToken(keys, { ...input, tenant: null, scope: [], lifetimeSeconds: 60, now: 1_700_000_000_000 })
  const claims = await verifyAccessToken(keys, issued.token, { issuer, audience, now: 1_700_000_030_000 })
  assert.deepEqual(claims, {
    iss: issuer, sub: 'client_a', aud: audience, exp: 1_700_000_060, iat: 1_700_000_000, nbf: 1_700_000_000,
    jti: issued.jti, clientId: 'client_a', scope: [], tenant: null
  })
})

test('verification refuses expired, not-yet-valid, foreign, retyped, unsigned and altered tokens', async () => {
  const keys = await ring()
  const now = 1_700_000_000_000
  const { token } = await issueAccessToken(keys, { ...input, now, lifetimeSeconds: 60 })
  const at = (ms: number): Promise<unknown> => verifyAccessToken(keys, token, { issuer, audience, now: ms })
  assert.notEqual(await at(now), null)
  assert.equal(await at(now + 60_000), null, 'expired')
  assert.equal(await at(now - 1_000), null, 'before nbf')
  assert.equal(await verifyAccessToken(keys, token, { issuer: 'https://other.test', audience, now }), null)
  assert.equal(await verifyAccessToken(keys, token, { issuer, audience: 'other', now }), null)
  assert.equal(await verifyAccessToken(await ring(), token, { issuer, audience, now }), null, 'another ring')
  const [head, body, sig] = token.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>
  const altered = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')
  assert.equal(await verifyAccessToken(keys, [head, altered, sig].join('.'), { issuer, audience, now }), null)
  const unsigned = new UnsecuredJWT(claims).encode()
  assert.equal(await verifyAccessToken(keys, unsigned, { issuer, audience, now }), null)
  // Same key, same claims, but typ JWT: RFC 9068 §4 requires at+jwt.
  const retyped = await resign(keys, new SignJWT(claims), 'JWT')
  assert.equal(await verifyAccessToken(keys, retyped, { issuer, audience, now }), null)
  assert.notEqual(await verifyAccessToken(keys, await resign(keys, new SignJWT(claims), 'at+jwt'), { issuer, audience, now }), null)
  assert.equal(await verifyAccessToken(keys, 'not.a.jwt', { issuer, audience, now }), null)
  assert.equal(await verifyAccessToken(keys, '', { issuer, audience, now }), null)
})

test('a token signed before a rotation verifies until it expires, then its key is gone', async () => {
  const keys = await ring()
  const now = 1_700_000_000_000
  const { token } = await issueAccessToken(keys, { ...input, now, lifetimeSeconds: 7200 })
  const oldKid = decodeProtectedHeader(token).kid
  await keys.rotate('EdDSA', now + 1000)
  assert.notEqual(keys.current().kid, oldKid)
  assert.notEqual(await verifyAccessToken(keys, token, { issuer, audience, now: now + 7_199_000 }), null)
  assert.ok(keys.jwks(now + 7_199_000).keys.some((k) => k.kid === oldKid))
  assert.ok(!keys.jwks(now + 1000 + 7_200_000).keys.some((k) => k.kid === oldKid))
  const fresh = await issueAccessToken(keys, { ...input, now: now + 2000 })
  assert.equal(decodeProtectedHeader(fresh.token).kid, keys.current().kid)
})

test('a lifetime beyond the ring maximum is refused, so no token outlives its key', async () => {
  const keys = await ring()
  await assert.rejects(issueAccessToken(keys, { ...input, lifetimeSeconds: 7201 }), /from 1 to 7200/)
  await assert.rejects(issueAccessToken(keys, { ...input, lifetimeSeconds: 0 }), /from 1 to 7200/)
  await assert.rejects(issueAccessToken(keys, { ...input, lifetimeSeconds: 1.5 }), /from 1 to 7200/)
})

async function resign (keys: SigningKeyRing, jwt: SignJWT, typ: string): Promise<string> {
  const key = keys.current()
  return await jwt.setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey)
}
