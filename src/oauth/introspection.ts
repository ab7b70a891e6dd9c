import type { AccessTokenClaims, AccessTokenVerifier } from './access-token.ts'
import { authenticateTokenRequest } from './client-authentication.ts'
import type { ClientAuthenticator, OAuthClient } from './client-authentication.ts'
import { oauthJson } from './oauth-response.ts'
import type { OAuthRequest, OAuthResponse } from './oauth-response.ts'
import type { TokenDenyList } from './token-deny-list.ts'

/** The scope that lets a client introspect tokens issued to other clients of its tenant. */
export const introspectScope = 'oauth:introspect'

/** Whether `caller` may learn about a token; when not, the token introspects as inactive. */
export type IntrospectionPolicy = (caller: OAuthClient, claims: AccessTokenClaims) => boolean

export interface IntrospectionEndpointOptions {
  readonly authenticateClient: ClientAuthenticator
  readonly verifyToken: AccessTokenVerifier
  readonly denyList: TokenDenyList
  readonly mayIntrospect?: IntrospectionPolicy
}

/** `POST /oauth/introspect`, RFC 7662. */
export type IntrospectionEndpoint = (request: OAuthRequest) => Promise<OAuthResponse>

/**
 * RFC 7662 §4: the server decides what a caller may learn. A client may always see its own
 * tokens; with `oauth:introspect` it may see any token of its tenant (all tenants when it has none).
 */
export const defaultIntrospectionPolicy: IntrospectionPolicy = (caller, claims) => {
  if (claims.clientId === caller.id) return true
  return caller.scopes.includes(introspectScope) && (caller.tenant === null || caller.tenant === claims.tenant)
}

export function createIntrospectionEndpoint (options: IntrospectionEndpointOptions): IntrospectionEndpoint {
  const { authenticateClient, verifyToken, denyList } = options
  const mayIntrospect = options.mayIntrospect ?? defaultIntrospectionPolicy
  return async function handleIntrospectionRequest (request) {
    // RFC 7662 §2.1: the endpoint requires authorization; §2.3: bad credentials are a 401.
    const asked = await authenticateTokenRequest(request, authenticateClient)
    if (!asked.ok) return asked.response
    const claims = await verifyToken(asked.token)
    // RFC 7662 §2.2: an inactive, unknown or hidden token is exactly {"active":false}, so the
    // answer never says why.
    if (claims === null || await denyList.isRevoked(claims.jti) || !mayIntrospect(asked.client, claims)) {
      return oauthJson(200, { active: false })
    }
    return { ...oauthJson(200, activeBody(claims)), target: claims.jti }
  }
}

function activeBody (claims: AccessTokenClaims): Record<string, string | number | boolean> {
  const body: Record<string, string | number | boolean> = {
    active: true,
    scope: claims.scope.join(' '),
    client_id: claims.clientId,
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    nbf: claims.nbf,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti
  }
  if (claims.tenant !== null) body.tenant = claims.tenant
  return body
}
