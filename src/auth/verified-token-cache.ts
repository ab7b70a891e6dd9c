import type { VerifiedToken } from './jwt/verified-token.ts'

export interface VerifiedTokenCacheOptions {
  readonly maxEntries: number
  /** Leeway the verifier grants on `exp`; an entry lives as long as the verifier would accept it. */
  readonly clockSkewSeconds?: number
  readonly now?: () => number
}

export interface VerifiedTokenCache {
  get (token: string): VerifiedToken | undefined
  set (token: string, verified: VerifiedToken): void
  readonly size: number
}

/**
 * Tokens whose signature and claims already verified, until they expire. A caller reuses its
 * token for many requests, so the signature check (tens of µs) runs once per token rather than
 * once per request. Only immutable facts are cached: revocation and client state are checked by
 * the caller on every hit. Bounded; the oldest entry goes first.
 */
export function createVerifiedTokenCache (options: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const now = options.now ?? Date.now
  const skewMs = (options.clockSkewSeconds ?? 0) * 1000
  const entries = new Map<string, VerifiedToken>()
  return {
    get (token) {
      const hit = entries.get(token)
      if (hit === undefined) return undefined
      if (hit.expiresAt.getTime() + skewMs <= now()) {
        entries.delete(token)
        return undefined
      }
      return hit
    },
    set (token, verified) {
      entries.delete(token)
      entries.set(token, verified)
      if (entries.size > options.maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
    },
    get size () { return entries.size }
  }
}
