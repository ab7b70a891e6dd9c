/**
 * Revoked access tokens, by `jti`, until they would have expired anyway (RFC 7009 §2.1: a
 * revoked token must not be accepted again). Adapters: in memory (`memory-token-deny-list.ts`);
 * a shared one (Redis) is needed as soon as more than one instance verifies tokens.
 */
export interface TokenDenyList {
  /** Denies `jti` until `expiresAt` (epoch ms, the token's `exp`); later the entry may be dropped. */
  revoke (jti: string, expiresAt: number): Promise<void>
  /** True while `jti` is denied. */
  isRevoked (jti: string): Promise<boolean>
}
