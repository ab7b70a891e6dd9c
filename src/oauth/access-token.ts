import { randomUUID } from 'node:crypto'
import { SignJWT, errors, jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'
import { signingAlgorithms } from './signing-keys.ts'
import type { SigningKeyRing } from './signing-keys.ts'

export const accessTokenType = 'at+jwt'
export const defaultAccessTokenLifetimeSeconds = 3600

export interface IssueAccessTokenInput {
  readonly issuer: string
  readonly audience: string
  /** For the client-credentials grant, the client id (RFC 9068 §2.2: no resource owner). */
  readonly subject: string
  readonly clientId: string
  /** Granted scopes, joined with spaces into the `scope` claim (RFC 9068 §2.2.3). */
  readonly scope: readonly string[]
  /** Omitted from the token when null. */
  readonly tenant: string | null
  readonly lifetimeSeconds?: number
  /** Epoch ms; for tests. */
  readonly now?: number
}

export interface IssuedAccessToken {
  readonly token: string
  readonly expiresIn: number
  readonly jti: string
}

/** Signs an RFC 9068 JWT access token with the ring's current key. */
export async function issueAccessToken (ring: SigningKeyRing, input: IssueAccessTokenInput): Promise<IssuedAccessToken> {
  const lifetime = input.lifetimeSeconds ?? defaultAccessTokenLifetimeSeconds
  // A longer token would outlive its key's retireAfter after a rotation and stop verifying early.
  if (!Number.isSafeInteger(lifetime) || lifetime < 1 || lifetime > ring.maxTokenLifetimeSeconds) {
    throw new Error(`access token lifetime must be a whole number of seconds from 1 to ${ring.maxTokenLifetimeSeconds}`)
  }
  const key = ring.current()
  const iat = Math.floor((input.now ?? Date.now()) / 1000)
  const jti = randomUUID()
  const claims: JWTPayload = { client_id: input.clientId, scope: input.scope.join(' ') }
  if (input.tenant !== null) claims.tenant = input.tenant
  const token = await new SignJWT(claims)
    // RFC 9068 §2.1: typ "at+jwt" keeps an access token from being taken for an ID token.
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: accessTokenType })
    .setIssuer(input.issuer)
    .setSubject(input.subject)
    .setAudience(input.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + lifetime)
    .setJti(jti)
    .sign(key.privateKey)
  return { token, expiresIn: lifetime, jti }
}

/** The claims of a verified access token. Times are epoch seconds, as in the JWT. */
export interface AccessTokenClaims {
  readonly iss: string
  readonly sub: string
  readonly aud: string
  readonly exp: number
  readonly iat: number
  readonly nbf: number
  readonly jti: string
  readonly clientId: string
  readonly scope: readonly string[]
  readonly tenant: string | null
}

export interface VerifyAccessTokenOptions {
  readonly issuer: string
  readonly audience: string
  /** Epoch ms; for tests. */
  readonly now?: number
}

/** Checks a token against the ring; answers null rather than throwing for any invalid token. */
export type AccessTokenVerifier = (token: string) => Promise<AccessTokenClaims | null>

/**
 * Verifies a token the way RFC 9068 §4 asks: the typ header, the pinned algorithms, issuer,
 * audience, lifetime, and a key from the ring that is not retired. Deny-list checks are the
 * caller's, because they need the store.
 */
export async function verifyAccessToken (ring: SigningKeyRing, token: string, options: VerifyAccessTokenOptions): Promise<AccessTokenClaims | null> {
  const now = options.now ?? Date.now()
  try {
    const { payload } = await jwtVerify(token, (header) => {
      const key = typeof header.kid === 'string' ? ring.publicKey(header.kid, now) : null
      if (key === null) throw new errors.JWKSNoMatchingKey()
      return key
    }, {
      typ: accessTokenType,
      algorithms: [...signingAlgorithms],
      issuer: options.issuer,
      audience: options.audience,
      currentDate: new Date(now),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti']
    })
    return toClaims(payload)
  } catch (err) {
    if (err instanceof errors.JOSEError) return null
    throw err
  }
}

export function createAccessTokenVerifier (ring: SigningKeyRing, options: Omit<VerifyAccessTokenOptions, 'now'>): AccessTokenVerifier {
  return async function verifyPortcullisAccessToken (token) {
    return await verifyAccessToken(ring, token, options)
  }
}

function toClaims (payload: JWTPayload): AccessTokenClaims | null {
  const { iss, sub, aud, exp, iat, nbf, jti, client_id: clientId, scope, tenant } = payload
  if (typeof iss !== 'string' || typeof sub !== 'string' || typeof aud !== 'string' || typeof jti !== 'string') return null
  if (typeof exp !== 'number' || typeof iat !== 'number' || typeof nbf !== 'number') return null
  if (typeof clientId !== 'string' || typeof scope !== 'string') return null
  if (tenant !== undefined && typeof tenant !== 'string') return null
  return {
    iss, sub, aud, exp, iat, nbf, jti, clientId,
    scope: scope === '' ? [] : scope.split(' '),
    tenant: tenant ?? null
  }
}
