import type { TokenDenyList } from './token-deny-list.ts'

export interface MemoryTokenDenyList extends TokenDenyList {
  /** `revoke` without the promise: the map is updated before it returns. */
  revokeSync (jti: string, expiresAt: number): void
  /** `isRevoked` without the promise, for the request path. */
  isRevokedSync (jti: string): boolean
  /** Entries held, expired ones not yet swept included. */
  size (): number
}

export interface MemoryTokenDenyListOptions {
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

/**
 * A process-local deny list. Expired entries are dropped when read, and all of them in one sweep
 * whenever the map has doubled since the last sweep, so memory follows the tokens still alive
 * and a sweep costs O(1) per revoke, amortised.
 */
export function createMemoryTokenDenyList (options: MemoryTokenDenyListOptions = {}): MemoryTokenDenyList {
  const now = options.now ?? Date.now
  const entries = new Map<string, number>()
  let sweepAt = 1024
  const sweep = (): void => {
    const t = now()
    for (const [jti, expiresAt] of entries) if (expiresAt <= t) entries.delete(jti)
    sweepAt = Math.max(1024, entries.size * 2)
  }
  const revokeSync = (jti: string, expiresAt: number): void => {
    if (expiresAt <= now()) return
    entries.set(jti, Math.max(expiresAt, entries.get(jti) ?? 0))
    if (entries.size >= sweepAt) sweep()
  }
  const isRevokedSync = (jti: string): boolean => {
    const expiresAt = entries.get(jti)
    if (expiresAt === undefined) return false
    if (expiresAt > now()) return true
    entries.delete(jti)
    return false
  }
  return {
    revokeSync,
    isRevokedSync,
    async revoke (jti, expiresAt) { revokeSync(jti, expiresAt) },
    async isRevoked (jti) { return isRevokedSync(jti) },
    size: () => entries.size
  }
}
