import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { isGatewayError } from '../../errors/gateway-error.ts'
import { createJwksCache } from './jwks-cache.ts'
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.ts'
import type { JwtIssuerOptions, JwksTuning } from './jwt-issuer-options.ts'
import { publicSigningKeys } from './public-key-set.ts'
import { keySet, mintKey, nowSeconds, signToken, sleep, startTestIdp, type TestIdp, type TestKey } from './jwt-fixture.ts'

const INTERVAL_MS = 500
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const cleanup of cleanups.splice(0)) await cleanup() })

async function idpWith (...keys: TestKey[]): Promise<TestIdp> {
  const idp = await startTestIdp(keySet(...keys))
  cleanups.push(async () => { await idp.close() })
  return idp
}

function externalVerifier (idp: TestIdp, jwks: JwksTuning = {}, overrides: Partial<JwtIssuerOptions> = {}, onError?: (err: unknown) => void): JwtVerifier {
  const verifier = createJwtVerifier({
    issuers: [{
      issuer: idp.origin,
      kind: 'external',
      audience: 'portcullis',
      algorithms: ['ES256', 'RS256', 'EdDSA'],
      typ: ['at+jwt', 'JWT'],
      keys: { kind: 'jwks_uri', jwksUri: idp.jwksUri },
      claims: { clientId: 'azp', tenant: 'tid', scopes: 'realm_access.roles' },
      jwks: { refreshIntervalMs: INTERVAL_MS, timeoutMs: 1_000, ...jwks },
      ...overrides
    }],
    ...(onError === undefined ? {} : { onJwksRefreshError: (_issuer: string, err: unknown) => { onError(err) } })
  })
  cleanups.push(async () => { await verifier.close() })
  return verifier
}

function idpClaims (idp: TestIdp, extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds()
  return { iss: idp.origin, aud: ['portcullis', 'account'], sub: 'user-7', azp: 'web-app', tid: 'acme', iat: now, exp: now + 300, realm_access: { roles: ['chat', 'models'] }, ...extra }
}

async function causeOf (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    assert.ok(isGatewayError(err))
    assert.equal(err.code, 'invalid_token')
    const parts: string[] = []
    for (let e: unknown = err.cause; e instanceof Error; e = e.cause) parts.push(e.message)
    return parts.join(' <- ')
  }
  assert.fail('expected a rejection')
}

test('an external issuer: typ JWT, azp, nested roles and a tenant claim are mapped', async () => {
  const key = await mintKey('RS256')
  const idp = await idpWith(key)
  const verifier = externalVerifier(idp)
  const verified = await verifier.verify(await signToken(key, idpClaims(idp), { typ: 'JWT' }))
  assert.equal(verified.subject, 'user-7')
  assert.equal(verified.clientId, 'web-app')
  assert.equal(verified.tenant, 'acme')
  assert.deepEqual(verified.scopes, ['chat', 'models'])
  assert.equal(verified.jti, null)
  assert.match(await causeOf(verifier.verify(await signToken(key, idpClaims(idp, { tid: undefined })))), /tenant/)
  assert.match(await causeOf(verifier.verify(await signToken(key, idpClaims(idp, { realm_access: { roles: 'chat' } }), { typ: 'id+jwt' }))), /typ/)
})

test('the unverified iss only picks the key set: a token cannot borrow another issuer\'s trust', async () => {
  const [ownKey, idpKey] = await Promise.all([mintKey('EdDSA'), mintKey('ES256')])
  const idp = await idpWith(idpKey)
  const own = 'https://gateway.example'
  const verifier = createJwtVerifier({
    issuers: [
      { issuer: own, kind: 'own', audience: 'portcullis', algorithms: ['EdDSA', 'ES256'], keys: { kind: 'local', jwks: keySet(ownKey) } },
      { issuer: idp.origin, kind: 'external', audience: 'portcullis', algorithms: ['EdDSA', 'ES256'], keys: { kind: 'jwks_uri', jwksUri: idp.jwksUri } }
    ]
  })
  cleanups.push(async () => { await verifier.close() })
  const ownShaped = { aud: 'portcullis', sub: 's', client_id: 'c', jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 60 }
  assert.match(await causeOf(verifier.verify(await signToken(ownKey, { ...ownShaped, iss: idp.origin }))), /no applicable key/)
  assert.match(await causeOf(verifier.verify(await signToken(idpKey, { ...ownShaped, iss: own }))), /no applicable key/)
  assert.equal((await verifier.verify(await signToken(ownKey, { ...ownShaped, iss: own }))).issuer, own)
  await verifier.warmUp()
})

test('a burst of 100 forged-kid tokens causes at most one JWKS refetch per interval', async () => {
  const [key, attacker] = await Promise.all([mintKey('ES256'), mintKey('ES256')])
  const idp = await idpWith(key)
  const verifier = externalVerifier(idp)
  // Signed up front so each burst is only verification, well inside one interval.
  const forged = await Promise.all(Array.from({ length: 100 }, async () => await signToken({ ...attacker, kid: randomUUID() }, idpClaims(idp))))
  await verifier.verify(await signToken(key, idpClaims(idp)))
  assert.equal(idp.jwksHits, 1)
  const burst = async (): Promise<void> => {
    const results = await Promise.allSettled(forged.map(async token => await verifier.verify(token)))
    assert.ok(results.every(r => r.status === 'rejected'))
  }
  await burst()
  assert.equal(idp.jwksHits, 1, 'within the interval of the first fetch: no refetch at all')
  await sleep(INTERVAL_MS + 50)
  await burst()
  assert.equal(idp.jwksHits, 2, 'after the interval: exactly one refetch for the whole burst')
  await burst()
  assert.equal(idp.jwksHits, 2)
})

test('a key rotated in at the IdP is picked up after the interval; the retired key stops working', async () => {
  const [oldKey, newKey] = await Promise.all([mintKey('EdDSA'), mintKey('EdDSA')])
  const idp = await idpWith(oldKey)
  const verifier = externalVerifier(idp)
  await verifier.verify(await signToken(oldKey, idpClaims(idp)))
  idp.jwks = keySet(newKey)
  const fresh = await signToken(newKey, idpClaims(idp))
  assert.match(await causeOf(verifier.verify(fresh)), /no applicable key/)
  await sleep(INTERVAL_MS + 50)
  assert.equal((await verifier.verify(fresh)).subject, 'user-7')
  assert.equal(idp.jwksHits, 2)
  assert.match(await causeOf(verifier.verify(await signToken(oldKey, idpClaims(idp)))), /no applicable key/)
})

test('a failing JWKS endpoint keeps the last good keys', async () => {
  const key = await mintKey('ES256')
  const idp = await idpWith(key)
  const refreshErrors: unknown[] = []
  const verifier = externalVerifier(idp, { maxAgeMs: 100, refreshIntervalMs: 100 }, {}, err => { refreshErrors.push(err) })
  const token = await signToken(key, idpClaims(idp))
  await verifier.verify(token)
  idp.mode = 'fail'
  for (let i = 0; i < 3; i++) {
    await sleep(150)
    assert.equal((await verifier.verify(token)).subject, 'user-7')
  }
  await sleep(150)
  assert.match(await causeOf(verifier.verify(await signToken({ ...key, kid: 'rotated' }, idpClaims(idp)))), /refresh failed.*HTTP 500/)
  assert.ok(idp.jwksHits >= 3)
  assert.ok(refreshErrors.length >= 2)
  assert.equal((await verifier.verify(token)).subject, 'user-7')
})

test('an IdP that is down at first use is asked once per interval, not once per token', async () => {
  const key = await mintKey('ES256')
  const idp = await idpWith(key)
  idp.mode = 'fail'
  const verifier = externalVerifier(idp)
  const token = await signToken(key, idpClaims(idp))
  assert.match(await causeOf(verifier.verify(token)), /HTTP 500/)
  for (let i = 0; i < 20; i++) assert.match(await causeOf(verifier.verify(token)), /no keys/)
  assert.equal(idp.jwksHits, 1)
  idp.mode = 'ok'
  await sleep(INTERVAL_MS + 50)
  assert.equal((await verifier.verify(token)).subject, 'user-7')
  assert.equal(idp.jwksHits, 2)
})

test('an oversized JWKS response is refused, with or without a content-length', async () => {
  const key = await mintKey('ES256')
  for (const mode of ['huge', 'huge-chunked'] as const) {
    const idp = await idpWith(key)
    idp.mode = mode
    const verifier = externalVerifier(idp)
    assert.match(await causeOf(verifier.verify(await signToken(key, idpClaims(idp)))), /exceeds 65536/)
  }
})

test('a JWKS endpoint that never answers fails within the time limit; a redirect is not followed', async () => {
  const key = await mintKey('ES256')
  const idp = await idpWith(key)
  idp.mode = 'hang'
  const started = performance.now()
  assert.match(await causeOf(externalVerifier(idp, { timeoutMs: 200 }).verify(await signToken(key, idpClaims(idp)))), /abort|timeout/i)
  assert.ok(performance.now() - started < 2_000)
  idp.mode = 'redirect'
  assert.match(await causeOf(externalVerifier(idp).verify(await signToken(key, idpClaims(idp)))), /HTTP 302/)
})

test('OIDC discovery finds jwks_uri, and refuses a document naming another issuer', async () => {
  const key = await mintKey('ES256')
  const idp = await idpWith(key)
  const discovering = { keys: { kind: 'discovery' } } as const
  assert.equal((await externalVerifier(idp, {}, discovering).verify(await signToken(key, idpClaims(idp)))).tenant, 'acme')
  idp.discoveryIssuer = 'https://evil.example'
  assert.match(await causeOf(externalVerifier(idp, {}, discovering).verify(await signToken(key, idpClaims(idp)))), /another issuer/)
})

test('key sources must be https except on loopback', () => {
  assert.throws(() => createJwksCache({ source: { jwksUri: 'http://idp.example/jwks' } }), /must use https/)
  assert.throws(() => createJwksCache({ source: { discoveryIssuer: 'http://idp.example' } }), /must use https/)
  assert.throws(() => createJwksCache({ source: { jwksUri: 'https://user:pw@idp.example/jwks' } }), /credentials/)
  for (const jwksUri of ['https://idp.example/jwks', 'http://127.0.0.1:9/jwks', 'http://[::1]:9/jwks', 'http://localhost:9/jwks']) {
    cleanups.push(createJwksCache({ source: { jwksUri } }).close)
  }
})

test('remote key sets keep only public asymmetric signing keys', async () => {
  const key = await mintKey('ES256')
  const kept = publicSigningKeys({
    keys: [key.publicJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, { ...key.publicJwk, kid: 'private', d: 'AAAA' }, { ...key.publicJwk, kid: 'enc', use: 'enc' }, 'junk']
  })
  assert.deepEqual(kept.keys.map(k => k.kid), [key.kid])
  assert.throws(() => publicSigningKeys({ nokeys: [] }), /no "keys" array/)
})
