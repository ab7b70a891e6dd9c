import type { ClientService } from './client-service.ts'
import type { ScryptParams } from './client-secret.ts'
import type { SigningKeyRing } from './signing-keys.ts'
import type { TokenDenyList } from './token-deny-list.ts'
import type { AccessTokenVerifier } from './access-token.ts'
import { createAccessTokenVerifier } from './access-token.ts'
import { clientTokenRefusal } from './client-token-state.ts'
import { createClientAuthenticator } from './client-authentication.ts'
import { createTokenEndpoint, type TokenEndpoint } from './token-endpoint.ts'
import { createRevocationEndpoint, type RevocationEndpoint } from './revocation.ts'
import { createIntrospectionEndpoint, type IntrospectionEndpoint } from './introspection.ts'
import { authorizationServerMetadata, type AuthorizationServerMetadata } from './authorization-server-metadata.ts'

export interface OAuthEndpointsOptions {
  readonly ring: SigningKeyRing
  readonly issuer: string
  readonly audience: string
  readonly lifetimeSeconds: number
  readonly clients: ClientService
  readonly denyList: TokenDenyList
  readonly scopesSupported: readonly string[]
  readonly scryptParams?: ScryptParams
}

export interface OAuthEndpoints {
  readonly token: TokenEndpoint
  readonly revocation: RevocationEndpoint
  readonly introspection: IntrospectionEndpoint
  readonly metadata: AuthorizationServerMetadata
  /** Own access tokens whose client still exists, is enabled and has not had its tokens revoked. */
  readonly verifyToken: AccessTokenVerifier
}

/** The authorization server of docs/oauth.md, wired to the client service and the deny-list. */
export function createOAuthEndpoints (options: OAuthEndpointsOptions): OAuthEndpoints {
  const { ring, issuer, audience, clients, denyList } = options
  const authenticateClient = createClientAuthenticator({
    findClient: clients.findClient,
    ...(options.scryptParams === undefined ? {} : { scryptParams: options.scryptParams })
  })
  const verifySignature = createAccessTokenVerifier(ring, { issuer, audience })
  // Introspection answers inactive exactly when the proxy would refuse the token.
  const verifyToken: AccessTokenVerifier = async (token) => {
    const claims = await verifySignature(token)
    if (claims === null) return null
    return clientTokenRefusal(await clients.find(claims.clientId), claims.iat) === null ? claims : null
  }
  return Object.freeze({
    token: createTokenEndpoint({ ring, issuer, audience, authenticateClient, lifetimeSeconds: options.lifetimeSeconds }),
    revocation: createRevocationEndpoint({ authenticateClient, verifyToken, denyList }),
    introspection: createIntrospectionEndpoint({ authenticateClient, verifyToken, denyList }),
    metadata: authorizationServerMetadata({ issuer, scopesSupported: options.scopesSupported }),
    verifyToken
  })
}
