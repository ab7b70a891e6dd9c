import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose'
import { GatewayError } from '../../errors/gateway-error.ts'
import { createJwksCache, type JwksCache } from './jwks-cache.ts'
import { checkIssuerOptions, normalizeTyp, type CheckedIssuer, type JwtIssuerOptions } from './jwt-issuer-options.ts'
import { createStaticKeyResolver, type KeyResolver } from './public-key-set.ts'
import { toVerifiedToken, type VerifiedToken } from './verified-token.ts'

export interface JwtVerifierOptions {
  readonly issuers: readonly JwtIssuerOptions[]
  /** Told when a background JWKS refresh fails; the issuer keeps its last good keys. */
  readonly onJwksRefreshError?: (issuer: string, err: unknown) => void
}

export interface JwtVerifier {
  /** Resolves the caller, or throws GatewayError `invalid_token` (reason in `cause`, for logs only). */
  verify (token: string): Promise<VerifiedToken>
  /** Fetches every remote key set once (at startup); failures go to onJwksRefreshError. */
  warmUp (): Promise<void>
  close (): Promise<void>
}

interface TrustedIssuer {
  readonly rules: CheckedIssuer
  readonly getKey: KeyResolver
  readonly cache: JwksCache | null
}

/** Header parameters that carry or point at a key. Trusting them lets the token pick its own key (RFC 8725 §3.10). */
const TOKEN_SUPPLIED_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const

/** RFC 7515 §7.1: three base64url parts and a non-empty signature; a JWE (5 parts) or unsigned JWT never gets further. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

export function createJwtVerifier (options: JwtVerifierOptions): JwtVerifier {
  const issuers = new Map<string, TrustedIssuer>()
  for (const issuerOptions of options.issuers) {
    const rules = checkIssuerOptions(issuerOptions)
    if (issuers.has(rules.issuer)) throw new Error(`jwt issuer "${rules.issuer}" is configured twice`)
    issuers.set(rules.issuer, trust(rules, options.onJwksRefreshError))
  }
  const maxTokenBytes = Math.max(0, ...[...issuers.values()].map(i => i.rules.maxTokenBytes))

  async function verifyOrThrow (token: string): Promise<VerifiedToken> {
    // Before any decoding: a huge token must cost nothing but this comparison.
    if (typeof token !== 'string' || token.length > maxTokenBytes) throw new Error('token too large')
    if (!COMPACT_JWS.test(token)) throw new Error('not a compact JWS')
    const header = decodeProtectedHeader(token) as JWTHeaderParameters
    const unverifiedIss = decodeJwt(token).iss
    // The unverified iss only picks the key set; jwtVerify checks it again, against the signed payload.
    const trusted = typeof unverifiedIss === 'string' ? issuers.get(unverifiedIss) : undefined
    if (trusted === undefined) throw new Error('unknown issuer')
    const { rules } = trusted
    if (token.length > rules.maxTokenBytes) throw new Error('token too large for this issuer')
    checkHeader(header, rules)
    const { payload } = await jwtVerify(token, trusted.getKey, {
      issuer: rules.issuer,
      audience: [...rules.audience],
      algorithms: [...rules.algorithms],
      clockTolerance: rules.clockSkewSeconds,
      requiredClaims: ['exp', 'iss', 'aud']
    })
    if (payload.iss !== rules.issuer) throw new Error('issuer changed after verification')
    checkIssuedAt(payload, rules.clockSkewSeconds)
    return toVerifiedToken(payload, rules)
  }

  return {
    async verify (token) {
      try {
        return await verifyOrThrow(token)
      } catch (err) {
        throw invalidToken(err)
      }
    },
    async warmUp () {
      await Promise.all([...issuers.values()].map(async ({ cache, rules }) => {
        await cache?.refresh().catch((err: unknown) => options.onJwksRefreshError?.(rules.issuer, err))
      }))
    },
    async close () {
      await Promise.all([...issuers.values()].map(async i => await i.cache?.close()))
    }
  }
}

function trust (rules: CheckedIssuer, onError: JwtVerifierOptions['onJwksRefreshError']): TrustedIssuer {
  const { keys } = rules
  if (keys.kind === 'local') return { rules, getKey: createStaticKeyResolver(keys.jwks), cache: null }
  if (keys.kind === 'resolver') return { rules, getKey: keys.getKey, cache: null }
  const cache = createJwksCache({
    ...rules.jwks,
    source: keys.kind === 'jwks_uri' ? { jwksUri: keys.jwksUri } : { discoveryIssuer: rules.issuer },
    onRefreshError: err => onError?.(rules.issuer, err)
  })
  return { rules, getKey: cache.getKey, cache }
}

function checkHeader (header: JWTHeaderParameters, rules: CheckedIssuer): void {
  // RFC 8725 §3.1: the algorithm comes from our allowlist, never from the token alone; this
  // refuses `none` and every HMAC algorithm before a key is even looked up.
  if (typeof header.alg !== 'string' || !rules.algorithms.has(header.alg)) throw new Error(`alg ${String(header.alg)} not allowed`)
  for (const name of TOKEN_SUPPLIED_KEY_HEADERS) {
    if (Object.hasOwn(header, name)) throw new Error(`header ${name} refused`)
  }
  // RFC 7515 §4.1.11: we implement no extension, so any crit is one we do not understand.
  if (Object.hasOwn(header, 'crit')) throw new Error('crit header refused')
  // RFC 8725 §3.11, RFC 9068 §4: explicit typing keeps ID tokens and other JWTs out.
  if (typeof header.typ !== 'string' || !rules.typ.has(normalizeTyp(header.typ))) throw new Error('typ not accepted')
}

/** jose checks iat only with maxTokenAge; a token issued in the future is refused here. */
function checkIssuedAt (payload: JWTPayload, skewSeconds: number): void {
  if (payload.iat === undefined) return
  if (payload.iat > Date.now() / 1000 + skewSeconds) throw new Error('iat in the future')
}

/** RFC 6750 §3.1. One message for every reason, so probing learns nothing; the reason is in `cause`. */
export function invalidToken (cause: unknown): GatewayError {
  return new GatewayError('invalid_token', {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    cause
  })
}
