import { z } from 'zod'
import { decodeJwt } from 'jose'
import type { AdminRoute } from './admin-routes.ts'
import type { AccessTokenVerifier } from '../oauth/access-token.ts'
import type { TokenDenyList } from '../oauth/token-deny-list.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { parseInput } from './parse-input.ts'

export interface TokenRoutesDeps {
  /** Verifies a Portcullis access token (signature, iss, aud, exp); null when it is not one. */
  readonly verifyOwnToken: AccessTokenVerifier
  readonly denyList: TokenDenyList
  /** Longest lifetime a token accepted here can have, in seconds: bounds how long a deny entry is kept. */
  readonly maxTokenLifetimeSeconds: number
  readonly now?: () => number
}

const revokeBody = z.strictObject({
  token: z.string().min(1).max(65_536).optional(),
  jti: z.string().min(1).max(256).optional(),
  expires_at: z.number().int().positive().optional()
})

function notFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No such token.', param: 'token' })
}

/**
 * `POST /admin/v1/tokens/revoke`: an administrator revokes one access token (a leaked one, say)
 * by sending the token, or — for an operator, and for tokens of external issuers — its `jti` and
 * `expires_at`. The `jti` is denied until the token expires, on the next request (RFC 7009
 * semantics without the client's credentials). Revoking every token of a client is
 * `POST /admin/v1/clients/{id}/revoke-tokens`.
 */
export function tokenRoutes (deps: TokenRoutesDeps): AdminRoute[] {
  const now = deps.now ?? Date.now
  return [{
    method: 'POST', url: '/tokens/revoke', scope: 'admin:clients',
    async handler ({ body, principal }) {
      const input = parseInput(revokeBody, body)
      if ((input.token === undefined) === (input.jti === undefined)) {
        throw new GatewayError('invalid_request', { param: 'token', message: 'Send either token, or jti with expires_at.' })
      }
      let jti: string
      let expiresAt: number
      if (input.token !== undefined) {
        const own = await deps.verifyOwnToken(input.token)
        if (own !== null) {
          // A tenant admin reaches only its tenant's tokens; another tenant's token is "not found".
          if (principal.tenant !== null && own.tenant !== principal.tenant) throw notFound()
          jti = own.jti
          expiresAt = own.exp * 1000
        } else {
          if (principal.tenant !== null) throw notFound()
          const claims = decodeUnverified(input.token)
          jti = claims.jti
          expiresAt = claims.exp * 1000
        }
      } else {
        if (principal.tenant !== null) throw new GatewayError('forbidden', { param: 'jti', message: 'A tenant administrator revokes by token, not by jti.' })
        if (input.expires_at === undefined) throw new GatewayError('invalid_request', { param: 'expires_at', message: 'expires_at (Unix seconds, the token\'s exp) is required with jti.' })
        jti = input.jti as string
        expiresAt = input.expires_at * 1000
      }
      // An entry never outlives the longest token lifetime: a bogus far-future exp cannot pin memory.
      const until = Math.min(expiresAt, now() + deps.maxTokenLifetimeSeconds * 1000)
      await deps.denyList.revoke(jti, until)
      return { body: { object: 'token_revocation', jti, expires_at: Math.floor(until / 1000), revoked: true } }
    }
  }]
}

/** The jti and exp of a token of another issuer; its signature is not ours to check here. */
function decodeUnverified (token: string): { jti: string, exp: number } {
  let claims: ReturnType<typeof decodeJwt>
  try {
    claims = decodeJwt(token)
  } catch {
    throw new GatewayError('invalid_request', { param: 'token', message: 'token is not a JWT.' })
  }
  if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256 || typeof claims.exp !== 'number') {
    throw new GatewayError('invalid_request', { param: 'token', message: 'The token has no jti or exp, so it cannot be revoked individually; revoke its client or rotate keys at the issuer.' })
  }
  return { jti: claims.jti, exp: claims.exp }
}
