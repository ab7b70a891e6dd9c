import { clientAuthMethods } from './client-authentication.ts'
import { signingAlgorithms } from './signing-keys.ts'

export const oauthPaths = Object.freeze({
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  jwks: '/.well-known/jwks.json',
  metadata: '/.well-known/oauth-authorization-server'
})

export interface AuthorizationServerMetadataOptions {
  /** The public origin of the gateway, e.g. `https://gateway.example.com`. */
  readonly issuer: string
  /** Scopes a client may be granted. */
  readonly scopesSupported: readonly string[]
}

/** The RFC 8414 §2 document served at `/.well-known/oauth-authorization-server`. */
export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly token_endpoint: string
  readonly jwks_uri: string
  readonly revocation_endpoint: string
  readonly introspection_endpoint: string
  readonly grant_types_supported: readonly string[]
  readonly response_types_supported: readonly string[]
  readonly token_endpoint_auth_methods_supported: readonly string[]
  readonly revocation_endpoint_auth_methods_supported: readonly string[]
  readonly introspection_endpoint_auth_methods_supported: readonly string[]
  readonly scopes_supported: readonly string[]
  /** Not an RFC 8414 field: the algorithms of the RFC 9068 access tokens, for resource servers. */
  readonly access_token_signing_alg_values_supported: readonly string[]
}

/**
 * Builds the metadata once at start-up. The issuer is checked as RFC 8414 §2 asks (no query, no
 * fragment) and must have no path either: the document is served at the root well-known URL,
 * which §3.1 reserves for an issuer without a path component.
 */
export function authorizationServerMetadata (options: AuthorizationServerMetadataOptions): AuthorizationServerMetadata {
  const issuer = checkIssuer(options.issuer)
  const url = (path: string): string => issuer + path
  return Object.freeze({
    issuer,
    token_endpoint: url(oauthPaths.token),
    jwks_uri: url(oauthPaths.jwks),
    revocation_endpoint: url(oauthPaths.revocation),
    introspection_endpoint: url(oauthPaths.introspection),
    grant_types_supported: ['client_credentials'],
    // REQUIRED by §2, empty: there is no authorization endpoint, so no response type.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...clientAuthMethods],
    revocation_endpoint_auth_methods_supported: [...clientAuthMethods],
    introspection_endpoint_auth_methods_supported: [...clientAuthMethods],
    scopes_supported: [...options.scopesSupported],
    access_token_signing_alg_values_supported: [...signingAlgorithms]
  })
}

/** The issuer in its one canonical spelling (the `iss` of every token must equal it exactly). */
export function checkIssuer (issuer: string): string {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new Error(`the OAuth issuer "${issuer}" is not a URL`)
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  // RFC 8414 §2: the issuer uses "https"; plain http only for a gateway reachable on loopback.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`the OAuth issuer "${issuer}" must use https (http only on localhost)`)
  }
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new Error(`the OAuth issuer "${issuer}" must not have a query or fragment`)
  }
  if (url.pathname !== '/' || url.username !== '' || url.password !== '') {
    throw new Error(`the OAuth issuer "${issuer}" must be an origin such as https://gateway.example.com, without a path`)
  }
  return url.origin
}
