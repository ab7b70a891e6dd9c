import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { exportSPKI, SignJWT, type JWTPayload } from 'jose'
import { errorCatalogue } from '../../errors/error-catalogue.ts'
import { isGatewayError } from '../../errors/gateway-error.ts'
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.ts'
import type { JwtIssuerOptions } from './jwt-issuer-options.ts'
import { base64url, keySet, mintKey, nowSeconds, signToken, type TestKey } from './jwt-fixture.ts'

const OWN = 'https://gateway.example'
const AUDIENCE = 'portcullis'

function ownClaims (extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds()
  return { iss: OWN, aud: AUDIENCE, sub: 'client-1', client_id: 'client-1', jti: randomUUID(), iat: now, exp: now + 300, scope: 'chat embeddings', ...extra }
}

function without (claims: JWTPayload, name: string): JWTPayload {
  const copy = { ...claims }
  delete copy[name]
  return copy
}

function ownIssuer (keys: TestKey[], overrides: Partial<JwtIssuerOptions> = {}): JwtIssuerOptions {
  return { issuer: OWN, kind: 'own', audience: AUDIENCE, algorithms: ['EdDSA', 'ES256', 'RS256', 'PS256'], keys: { kind: 'local', jwks: keySet(...keys) }, ...overrides }
}

/** The reason kept for the server log: jose's error code and message, down the cause chain. */
function reasonOf (err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(`${(e as { code?: string }).code ?? ''} ${e.message}`)
  return parts.join(' <- ')
}

async function rejected (verifier: JwtVerifier, token: string, reason: RegExp): Promise<Error> {
  let caught: unknown
  await assert.rejects(verifier.verify(token), (err: unknown) => { caught = err; return true })
  assert.ok(isGatewayError(caught), 'a GatewayError')
  assert.equal(caught.code, 'invalid_token')
  assert.equal(caught.status, 401)
  assert.deepEqual(caught.headers, { 'www-authenticate': 'Bearer error="invalid_token"' })
  assert.equal(caught.message, errorCatalogue.invalid_token.message)
  assert.match(reasonOf(caught.cause), reason)
  return caught
}

describe('JWT verifier with the local key set (own tokens)', () => {
  let ed: TestKey, es: TestKey, rs: TestKey, ps: TestKey, attacker: TestKey
  let verifier: JwtVerifier

  before(async () => {
    [ed, es, rs, ps, attacker] = await Promise.all([mintKey('EdDSA'), mintKey('ES256'), mintKey('RS256'), mintKey('PS256'), mintKey('ES256')])
    verifier = createJwtVerifier({ issuers: [ownIssuer([ed, es, rs, ps])] })
  })
  after(async () => { await verifier.close() })

  test('accepts a valid token of each algorithm family and maps its claims', async () => {
    for (const key of [ed, es, rs, ps]) {
      const claims = ownClaims()
      const verified = await verifier.verify(await signToken(key, claims))
      assert.deepEqual(verified, {
        issuer: OWN, subject: 'client-1', clientId: 'client-1', tenant: null, scopes: ['chat', 'embeddings'], roles: [], jti: claims.jti, issuedAt: claims.iat ?? null, expiresAt: new Date((claims.exp ?? 0) * 1000)
      }, key.alg)
    }
  })

  test('accepts typ application/at+jwt, the long form RFC 9068 §4 allows', async () => {
    await verifier.verify(await signToken(ed, ownClaims(), { typ: 'application/at+jwt' }))
  })

  test('refuses alg none, with or without a signature part', async () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url(ownClaims())}`
    await rejected(verifier, `${unsigned}.`, /not a compact JWS/)
    await rejected(verifier, `${unsigned}.c2ln`, /alg none not allowed/)
  })

  test('refuses HS256 signed with the public key as the HMAC secret (key confusion)', async () => {
    const secret = new TextEncoder().encode(await exportSPKI(rs.publicKey))
    const forged = await new SignJWT(ownClaims()).setProtectedHeader({ alg: 'HS256', kid: rs.kid, typ: 'at+jwt' }).sign(secret)
    await rejected(verifier, forged, /alg HS256 not allowed/)
  })

  test('refuses an algorithm outside the issuer allowlist even with a known key', async () => {
    const edOnly = createJwtVerifier({ issuers: [ownIssuer([ed, rs], { algorithms: ['EdDSA'] })] })
    await rejected(edOnly, await signToken(rs, ownClaims()), /alg RS256 not allowed/)
  })

  test('refuses keys supplied by the token: jwk, jku, x5u, x5c', async () => {
    const headers = {
      jwk: attacker.publicJwk,
      jku: 'https://attacker.example/jwks',
      x5u: 'https://attacker.example/cert.pem',
      x5c: ['MIIBszCCAVmgAwIBAgIUQ']
    }
    for (const [name, value] of Object.entries(headers)) {
      // Signed with the attacker's key (the embedded-key attack) and with a trusted key alike.
      await rejected(verifier, await signToken({ ...attacker, kid: es.kid }, ownClaims(), { [name]: value }), new RegExp(`header ${name} refused`))
      await rejected(verifier, await signToken(es, ownClaims(), { [name]: value }), new RegExp(`header ${name} refused`))
    }
  })

  test('refuses an unknown crit header', async () => {
    const token = await new SignJWT(ownClaims())
      .setProtectedHeader({ alg: 'EdDSA', kid: ed.kid, typ: 'at+jwt', crit: ['urn:example:policy'], 'urn:example:policy': 1 })
      .sign(ed.privateKey, { crit: { 'urn:example:policy': true } })
    await rejected(verifier, token, /crit header refused/)
  })

  test('refuses a wrong or missing typ (an ID token or a plain JWT is not an access token)', async () => {
    for (const typ of ['JWT', 'id+jwt', 'application/jwt']) {
      await rejected(verifier, await signToken(ed, ownClaims(), { typ }), /typ not accepted/)
    }
    const noTyp = await new SignJWT(ownClaims()).setProtectedHeader({ alg: 'EdDSA', kid: ed.kid }).sign(ed.privateKey)
    await rejected(verifier, noTyp, /typ not accepted/)
  })

  test('refuses a token without exp', async () => {
    await rejected(verifier, await signToken(ed, without(ownClaims(), 'exp')), /missing required "exp"/)
  })

  test('refuses an expired token, but tolerates expiry within the clock skew', async () => {
    await rejected(verifier, await signToken(ed, ownClaims({ exp: nowSeconds() - 61 })), /ERR_JWT_EXPIRED/)
    await verifier.verify(await signToken(ed, ownClaims({ exp: nowSeconds() - 30 })))
  })

  test('refuses nbf or iat in the future beyond the clock skew', async () => {
    await rejected(verifier, await signToken(ed, ownClaims({ nbf: nowSeconds() + 120 })), /"nbf" claim timestamp check failed/)
    await rejected(verifier, await signToken(ed, ownClaims({ iat: nowSeconds() + 120 })), /iat in the future/)
    await verifier.verify(await signToken(ed, ownClaims({ nbf: nowSeconds() + 30, iat: nowSeconds() + 30 })))
  })

  test('refuses a wrong or missing iss', async () => {
    await rejected(verifier, await signToken(ed, ownClaims({ iss: 'https://evil.example' })), /unknown issuer/)
    await rejected(verifier, await signToken(ed, without(ownClaims(), 'iss')), /unknown issuer/)
  })

  test('refuses a wrong or missing aud', async () => {
    await rejected(verifier, await signToken(ed, ownClaims({ aud: 'someone-else' })), /unexpected "aud"/)
    await rejected(verifier, await signToken(ed, without(ownClaims(), 'aud')), /missing required "aud"/)
  })

  test('refuses an oversized token before parsing it', async () => {
    const big = await signToken(ed, ownClaims({ padding: 'x'.repeat(9000) }))
    await rejected(verifier, big, /token too large/)
    await rejected(verifier, 'not-base64!'.repeat(1_000_000), /token too large/)
  })

  test('refuses a wrong signature and a tampered payload', async () => {
    await rejected(verifier, await signToken({ ...attacker, kid: es.kid }, ownClaims()), /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/)
    const [header, , signature] = (await signToken(es, ownClaims())).split('.')
    const tampered = `${header}.${base64url(ownClaims({ scope: 'admin:keys' }))}.${signature}`
    await rejected(verifier, tampered, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/)
  })

  test('refuses an unknown kid', async () => {
    await rejected(verifier, await signToken(attacker, ownClaims()), /ERR_JWKS_NO_MATCHING_KEY/)
  })

  test('refuses an own token without the RFC 9068 claims client_id or jti', async () => {
    await rejected(verifier, await signToken(ed, without(ownClaims(), 'client_id')), /lacks client_id, jti or iat/)
    await rejected(verifier, await signToken(ed, without(ownClaims(), 'jti')), /lacks client_id, jti or iat/)
  })

  test('refuses a JWE or garbage in place of a JWS', async () => {
    await rejected(verifier, 'a.b.c.d.e', /not a compact JWS/)
    await rejected(verifier, 'Bearer xyz', /not a compact JWS/)
  })

  test('gives the same message for every reason; only the cause differs', async () => {
    const expired = await rejected(verifier, await signToken(ed, ownClaims({ exp: nowSeconds() - 600 })), /EXPIRED/)
    const forged = await rejected(verifier, await signToken({ ...attacker, kid: es.kid }, ownClaims()), /SIGNATURE/)
    assert.equal(expired.message, forged.message)
    assert.doesNotMatch(JSON.stringify({ message: expired.message }), /expire|signature/i)
  })
})

describe('JWT verifier options', () => {
  test('refuse HMAC, none, bad skew, loose typ for own tokens and mismatched key sources at startup', async () => {
    const key = await mintKey('EdDSA')
    const bad: Array<Partial<JwtIssuerOptions>> = [
      { algorithms: ['HS256'] },
      { algorithms: ['none'] },
      { algorithms: [] },
      { clockSkewSeconds: 61 },
      { typ: ['at+jwt', 'JWT'] },
      { audience: [] },
      { keys: { kind: 'jwks_uri', jwksUri: 'https://idp.example/jwks' } },
      { kind: 'external' },
      { keys: { kind: 'local', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } } }
    ]
    for (const overrides of bad) {
      assert.throws(() => createJwtVerifier({ issuers: [ownIssuer([key], overrides)] }), Error, JSON.stringify(overrides))
    }
    assert.throws(() => createJwtVerifier({ issuers: [ownIssuer([key]), ownIssuer([key])] }), /configured twice/)
  })
})
