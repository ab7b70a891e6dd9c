import { defaultAccessTokenLifetimeSeconds, issueAccessToken } from './access-token.ts'
import type { ClientAuthenticator } from './client-authentication.ts'
import { formValues, oauthError, oauthJson } from './oauth-response.ts'
import type { OAuthRequest, OAuthResponse } from './oauth-response.ts'
import type { SigningKeyRing } from './signing-keys.ts'

export interface TokenEndpointOptions {
  readonly ring: SigningKeyRing
  readonly issuer: string
  /** The `aud` of every token: the gateway's own resource identifier. */
  readonly audience: string
  readonly authenticateClient: ClientAuthenticator
  readonly lifetimeSeconds?: number
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

/** `POST /oauth/token`: the client credentials grant, RFC 6749 §4.4. */
export type TokenEndpoint = (request: OAuthRequest) => Promise<OAuthResponse>

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by single spaces.
const scopePattern = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/

export function createTokenEndpoint (options: TokenEndpointOptions): TokenEndpoint {
  const { ring, issuer, audience, authenticateClient } = options
  const lifetimeSeconds = options.lifetimeSeconds ?? defaultAccessTokenLifetimeSeconds
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > ring.maxTokenLifetimeSeconds) {
    throw new Error(`token lifetime must be a whole number of seconds from 1 to the ring's maximum (${ring.maxTokenLifetimeSeconds})`)
  }
  if (issuer === '' || audience === '') throw new Error('the token endpoint needs an issuer and an audience')
  const now = options.now ?? Date.now
  return async function handleTokenRequest (request) {
    const form = formValues(request.form, ['grant_type', 'scope'])
    if (form === null) return oauthError('invalid_request', 'A parameter was sent more than once.')
    if (form.grant_type === null) return oauthError('invalid_request', 'grant_type is required.')
    // Checked before client authentication: it is public (RFC 8414 metadata) and costs no scrypt.
    if (form.grant_type !== 'client_credentials') {
      return oauthError('unsupported_grant_type', 'Only the client_credentials grant is supported.')
    }
    const auth = await authenticateClient(request)
    if (!auth.ok) return auth.response
    const { client } = auth
    const scope = grantedScope(form.scope, client.scopes)
    if (scope === null) return oauthError('invalid_scope', 'The requested scope is malformed or exceeds the scope granted to the client.')
    const issued = await issueAccessToken(ring, {
      issuer,
      audience,
      subject: client.id,
      clientId: client.id,
      scope,
      tenant: client.tenant,
      lifetimeSeconds,
      now: now()
    })
    // RFC 6749 §5.1. `scope` is always sent, so the client never has to guess what it received.
    const response = oauthJson(200, {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      scope: scope.join(' ')
    })
    return { ...response, target: issued.jti }
  }
}

/**
 * RFC 6749 §3.3: without `scope` the client gets all its scopes (the documented default);
 * with it, a subset of them, in the order asked and without repeats. Null = `invalid_scope`.
 */
export function grantedScope (requested: string | null, allowed: readonly string[]): string[] | null {
  if (requested === null) return [...allowed]
  if (!scopePattern.test(requested)) return null
  const asked = [...new Set(requested.split(' '))]
  return asked.every((scope) => allowed.includes(scope)) ? asked : null
}
