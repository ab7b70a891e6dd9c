import type { JWTPayload } from 'jose'
import type { CheckedIssuer } from './jwt-issuer-options.ts'

/** What a verified access token says about its caller. */
export interface VerifiedToken {
  readonly issuer: string
  readonly subject: string
  readonly clientId: string | null
  readonly tenant: string | null
  readonly scopes: string[]
  /** Role names from the mapped roles claim; empty when the issuer maps none. */
  readonly roles: string[]
  readonly jti: string | null
  /** `iat`, epoch seconds, when present. */
  readonly issuedAt: number | null
  readonly expiresAt: Date
}

/** Thrown for a token whose signature is fine but whose claims do not fit the mapping. */
export class ClaimShapeError extends Error {
  override readonly name = 'ClaimShapeError'
}

/**
 * Maps the claims of an already verified token through the issuer's claim mapping.
 * An exact key wins over a dotted path because namespaced claims are URLs with dots in them.
 */
export function toVerifiedToken (payload: JWTPayload, issuer: CheckedIssuer): VerifiedToken {
  const { claims } = issuer
  const subject = claimAt(payload, claims.subject)
  if (typeof subject !== 'string' || subject === '') throw new ClaimShapeError(`claim ${claims.subject} (subject) missing`)
  const clientId = optionalString(payload, claims.clientId)
  const jti = optionalString(payload, 'jti')
  // RFC 9068 §2.2: client_id, jti and iat are required in a JWT access token; external IdPs
  // vary (Entra has no jti), so only our own tokens are held to it.
  if (issuer.own && (clientId === null || jti === null || payload.iat === undefined)) {
    throw new ClaimShapeError('an own token lacks client_id, jti or iat')
  }
  let tenant: string | null = null
  if (claims.tenant !== null) {
    tenant = optionalString(payload, claims.tenant)
    // The operator said tenants come from this claim: a token without one is refused, not unscoped.
    if (tenant === null) throw new ClaimShapeError(`claim ${claims.tenant} (tenant) missing`)
  }
  if (payload.exp === undefined) throw new ClaimShapeError('exp missing')
  return {
    issuer: issuer.issuer,
    subject,
    clientId,
    tenant,
    scopes: scopesOf(claimAt(payload, claims.scopes), claims.scopes),
    roles: claims.roles === null ? [] : scopesOf(claimAt(payload, claims.roles), claims.roles),
    jti,
    issuedAt: typeof payload.iat === 'number' ? payload.iat : null,
    expiresAt: new Date(payload.exp * 1000)
  }
}

/** RFC 9068 §2.2.3 / RFC 6749 §3.3: `scope` is space-separated; `roles` and `scp` arrays also occur. */
function scopesOf (value: unknown, claim: string): string[] {
  if (value === undefined) return []
  if (typeof value === 'string') return [...new Set(value.split(' ').filter(s => s !== ''))]
  if (Array.isArray(value) && value.every((s): s is string => typeof s === 'string' && s !== '' && !s.includes(' '))) {
    return [...new Set(value)]
  }
  throw new ClaimShapeError(`claim ${claim} (scopes) is neither a string nor an array of strings`)
}

function optionalString (payload: JWTPayload, path: string): string | null {
  const value = claimAt(payload, path)
  if (value === undefined) return null
  if (typeof value !== 'string' || value === '') throw new ClaimShapeError(`claim ${path} is not a string`)
  return value
}

function claimAt (payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path]
  let node: unknown = payload
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment)) return undefined
    node = (node as Record<string, unknown>)[segment]
  }
  return node
}
