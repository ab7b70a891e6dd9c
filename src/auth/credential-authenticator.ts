import type { IncomingHttpHeaders } from 'node:http'
import type { Principal } from '../pipeline/context.ts'
import type { FailedAuthThrottle } from './failed-auth-throttle.ts'
import type { TokenAuthenticator } from './token-authenticator.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { invalidToken } from './jwt/jwt-verifier.ts'
import { retryAfterError } from './failed-auth-throttle.ts'

/** What the authenticator needs from the key service. */
export interface CredentialVerifier {
  /** Synchronous for a cached key; failures are rejected promises. */
  verify (presented: string): Principal | Promise<Principal>
}

export interface CredentialAuthenticatorOptions {
  readonly keys: CredentialVerifier
  /** Null when neither the OAuth issuer nor a trusted issuer is configured. */
  readonly tokens: TokenAuthenticator | null
  readonly throttle: FailedAuthThrottle | null
}

/** Resolves the caller of a request (proxy or admin) from its headers and client IP. */
export interface CredentialAuthenticator {
  /** A cached credential answers synchronously; failures may throw or reject. */
  authenticate (headers: IncomingHttpHeaders, clientIp: string): Principal | Promise<Principal>
}

// RFC 6750 §2.1: `Bearer` followed by the token; the scheme is case-insensitive (RFC 9110 §11.1).
const bearer = /^Bearer +(\S+) *$/i
// A JOSE compact serialization: base64url parts joined by dots, the first a JSON object header
// (`{"` encodes as `eyJ`). JWS and JWE alike go to the token verifier, which refuses all but a
// signed JWS with `invalid_token`; no API key or bootstrap credential looks like this.
const joseCompact = /^eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}$/

/**
 * The credential a request carries: `Authorization: Bearer <key or token>` first, else
 * `x-api-key: <key>` (sent by Anthropic clients). Query strings are never read: URLs end up in
 * logs and proxies.
 */
export function extractCredential (headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization
  if (typeof authorization === 'string' && authorization !== '') {
    const match = bearer.exec(authorization)
    if (match !== null) return match[1] as string
  }
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim()
  return null
}

/**
 * API keys and JWTs through one door: a source past the brute-force threshold is refused before
 * its credential is even looked at (so a right guess during the cool-down learns nothing), every
 * invalid key or token counts against its IP, and a credential with an IP allowlist is refused
 * (403 `ip_not_allowed`) from anywhere else.
 */
export function createCredentialAuthenticator (options: CredentialAuthenticatorOptions): CredentialAuthenticator {
  const { keys, tokens, throttle } = options
  const failed = (ip: string) => (err: unknown): never => {
    if (throttle !== null && err instanceof GatewayError && (err.code === 'invalid_api_key' || err.code === 'invalid_token')) {
      throttle.fail(ip, null, err.code)
    }
    throw err
  }
  return {
    authenticate (headers, clientIp) {
      if (throttle !== null) {
        const wait = throttle.retryAfter(clientIp, null)
        if (wait !== null) throw retryAfterError(wait)
      }
      const credential = extractCredential(headers)
      if (credential === null) throw new GatewayError('missing_credentials')
      let verified: Principal | Promise<Principal>
      if (joseCompact.test(credential)) {
        verified = tokens === null ? Promise.reject(invalidToken(new Error('no token issuer is configured'))) : tokens.verify(credential)
      } else {
        verified = keys.verify(credential)
      }
      if (!(verified instanceof Promise)) return allowedFrom(verified, clientIp)
      return verified.then((principal) => allowedFrom(principal, clientIp), failed(clientIp))
    }
  }
}

function allowedFrom (principal: Principal, clientIp: string): Principal {
  if (principal.allowedIps !== null && !principal.allowedIps.has(clientIp)) throw new GatewayError('ip_not_allowed')
  return principal
}
