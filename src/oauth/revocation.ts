import type { AccessTokenVerifier } from './access-token.ts'
import { authenticateTokenRequest } from './client-authentication.ts'
import type { ClientAuthenticator } from './client-authentication.ts'
import { oauthError, oauthJson } from './oauth-response.ts'
import type { OAuthRequest, OAuthResponse } from './oauth-response.ts'
import type { TokenDenyList } from './token-deny-list.ts'

export interface RevocationEndpointOptions {
  readonly authenticateClient: ClientAuthenticator
  readonly verifyToken: AccessTokenVerifier
  readonly denyList: TokenDenyList
}

/** `POST /oauth/revoke`, RFC 7009. */
export type RevocationEndpoint = (request: OAuthRequest) => Promise<OAuthResponse>

export function createRevocationEndpoint (options: RevocationEndpointOptions): RevocationEndpoint {
  const { authenticateClient, verifyToken, denyList } = options
  return async function handleRevocationRequest (request) {
    const asked = await authenticateTokenRequest(request, authenticateClient)
    if (!asked.ok) return asked.response
    const claims = await verifyToken(asked.token)
    // RFC 7009 §2.2: an invalid, expired or unknown token is answered 200 like a revoked one;
    // there is nothing left to revoke and the client's purpose is met.
    if (claims === null) return oauthJson(200, {})
    // RFC 7009 §2.1: only the client the token was issued to may revoke it, and it is told so.
    if (claims.clientId !== asked.client.id) {
      return { ...oauthError('unauthorized_client', 'The token was not issued to this client.'), target: claims.jti }
    }
    await denyList.revoke(claims.jti, claims.exp * 1000)
    return { ...oauthJson(200, {}), target: claims.jti }
  }
}
