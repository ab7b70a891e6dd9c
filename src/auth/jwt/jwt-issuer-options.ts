import type { JSONWebKeySet } from 'jose'
import type { JwksCacheOptions } from './jwks-cache.ts'
import type { KeyResolver } from './public-key-set.ts'

/** Where an issuer's verification keys come from. */
export type JwtKeySource =
  /** A fixed set of public JWKs (Portcullis's own signing keys). */
  | { readonly kind: 'local', readonly jwks: JSONWebKeySet }
  /** Keys that change at run time (Portcullis's signing-key ring, which rotates). */
  | { readonly kind: 'resolver', readonly getKey: KeyResolver }
  /** A JWKS URL (https; http for loopback only). */
  | { readonly kind: 'jwks_uri', readonly jwksUri: string }
  /** OIDC discovery: `<issuer>/.well-known/openid-configuration` → `jwks_uri`. */
  | { readonly kind: 'discovery' }

/** Which claim carries what. Dotted paths reach nested claims (`realm_access.roles`). */
export interface JwtClaimMapping {
  /** Default `sub`. Always required. */
  readonly subject?: string
  /** Default `client_id` (RFC 9068 §2.2); Keycloak and Entra put it in `azp`. */
  readonly clientId?: string
  /** Default none: the token carries no tenant. */
  readonly tenant?: string | null
  /** Default `scope`: a space-separated string (RFC 6749 §3.3) or an array of strings (`roles`, `scp`). */
  readonly scopes?: string
  /** Default none: a claim with role names (string or array), e.g. `realm_access.roles`. */
  readonly roles?: string | null
}

export type JwksTuning = Omit<JwksCacheOptions, 'source' | 'onRefreshError'>

export interface JwtIssuerOptions {
  /** Exact `iss` value. */
  readonly issuer: string
  /** `own`: Portcullis's access tokens, verified strictly (RFC 9068); `external`: a trusted IdP. */
  readonly kind: 'own' | 'external'
  /** Accepted `aud` values; the token must name at least one. */
  readonly audience: string | readonly string[]
  /** Allowlist of JWS algorithms, asymmetric only (e.g. `['EdDSA', 'ES256', 'RS256']`). */
  readonly algorithms: readonly string[]
  /** Accepted `typ` values. Default and, for `own`, only value: `at+jwt` (RFC 9068 §2.1). */
  readonly typ?: readonly string[]
  readonly keys: JwtKeySource
  /** Leeway for `exp`, `nbf` and `iat`. Default 60, at most 60. */
  readonly clockSkewSeconds?: number
  /** Default 8192. */
  readonly maxTokenBytes?: number
  readonly claims?: JwtClaimMapping
  /** Remote key sources only. */
  readonly jwks?: JwksTuning
}

/** The issuer options with defaults applied and every rule checked once, at startup. */
export interface CheckedIssuer {
  readonly issuer: string
  readonly own: boolean
  readonly audience: readonly string[]
  readonly algorithms: ReadonlySet<string>
  /** Normalised (see normalizeTyp). */
  readonly typ: ReadonlySet<string>
  readonly keys: JwtKeySource
  readonly clockSkewSeconds: number
  readonly maxTokenBytes: number
  readonly claims: Required<JwtClaimMapping>
  readonly jwks: JwksTuning
}

export const JWT_DEFAULTS = Object.freeze({
  clockSkewSeconds: 60,
  maxClockSkewSeconds: 60,
  maxTokenBytes: 8192,
  typ: Object.freeze(['at+jwt'])
})

/**
 * Asymmetric algorithms only. HMAC is never allowlisted: every key source here is a set of
 * public keys, and accepting HS* next to them is the key-confusion attack of RFC 8725 §2.1 / §3.1;
 * `none` is refused for the same section.
 */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'
])

/** RFC 7515 §4.1.9: media types compare case-insensitively and may omit `application/`. */
export function normalizeTyp (typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

export function checkIssuerOptions (options: JwtIssuerOptions): CheckedIssuer {
  const fail = (why: string): never => { throw new Error(`jwt issuer "${options.issuer}": ${why}`) }
  if (options.issuer === '') fail('issuer must not be empty')
  const own = options.kind === 'own'
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience]
  if (audience.length === 0 || audience.includes('')) fail('audience is required')
  if (options.algorithms.length === 0) fail('algorithms must not be empty')
  for (const alg of options.algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) fail(`algorithm ${alg} is not allowed (asymmetric algorithms only, RFC 8725 §3.1)`)
  }
  const typ = (options.typ ?? JWT_DEFAULTS.typ).map(normalizeTyp)
  if (typ.length === 0) fail('typ must not be empty')
  // RFC 9068 §2.1 / §4: our own access tokens are told apart from every other JWT by typ alone.
  if (own && typ.some(t => t !== 'at+jwt')) fail('own tokens accept typ at+jwt only')
  const localKeys = options.keys.kind === 'local' || options.keys.kind === 'resolver'
  if (own && !localKeys) fail('own tokens are verified with the local key set')
  if (!own && localKeys) fail('external issuers use jwks_uri or discovery')
  const clockSkewSeconds = options.clockSkewSeconds ?? JWT_DEFAULTS.clockSkewSeconds
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > JWT_DEFAULTS.maxClockSkewSeconds) {
    fail(`clock skew must be an integer from 0 to ${JWT_DEFAULTS.maxClockSkewSeconds} seconds`)
  }
  const maxTokenBytes = options.maxTokenBytes ?? JWT_DEFAULTS.maxTokenBytes
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 256 || maxTokenBytes > 65_536) fail('max token bytes must be 256 to 65536')
  const claims = options.claims ?? {}
  return Object.freeze({
    issuer: options.issuer,
    own,
    audience,
    algorithms: new Set(options.algorithms),
    typ: new Set(typ),
    keys: options.keys,
    clockSkewSeconds,
    maxTokenBytes,
    claims: {
      subject: claims.subject ?? 'sub',
      clientId: claims.clientId ?? 'client_id',
      tenant: claims.tenant ?? null,
      scopes: claims.scopes ?? 'scope',
      roles: claims.roles ?? null
    },
    jwks: options.jwks ?? {}
  })
}
