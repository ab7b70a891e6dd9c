import type { ClientRecord } from '../store/store.ts'

/**
 * Why a token of this client is no longer good, or null when it is. One rule for the proxy
 * (token-authenticator.ts) and for introspection and revocation (oauth-endpoints.ts): a token
 * outlives nothing about its client — deleted, disabled, or issued (`iat`, whole seconds) not
 * after a "revoke all tokens". A token obtained in the same second as that revocation is
 * refused too: fail closed.
 */
export function clientTokenRefusal (client: ClientRecord | null, issuedAtSeconds: number | null): string | null {
  if (client === null) return 'client deleted'
  if (client.disabledAt !== null) return 'client disabled'
  if (client.tokensRevokedBefore !== null && (issuedAtSeconds ?? 0) * 1000 <= client.tokensRevokedBefore) return 'client tokens revoked'
  return null
}
