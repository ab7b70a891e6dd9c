import type { IncomingHttpHeaders } from 'node:http'
import type { Principal } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import { GatewayError } from '../errors/gateway-error.ts'

/** What the authenticate stage needs from the key service. */
export interface CredentialVerifier {
  /** Synchronous for a cached key; failures are rejected promises. */
  verify (presented: string): Principal | Promise<Principal>
}

// RFC 6750 §2.1: `Bearer` followed by the token; the scheme is case-insensitive (RFC 9110 §11.1).
const bearer = /^Bearer +(\S+) *$/i

/**
 * The credential a request carries: `Authorization: Bearer <key>` first, else `x-api-key: <key>`
 * (sent by Anthropic clients). Query strings are never read: URLs end up in logs and proxies.
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

/** Resolves the caller from request headers; shared by the proxy stage and the admin API. */
export async function authenticateHeaders (headers: IncomingHttpHeaders, keys: CredentialVerifier): Promise<Principal> {
  const credential = extractCredential(headers)
  if (credential === null) throw new GatewayError('missing_credentials')
  return await keys.verify(credential)
}

export function createAuthenticateStage (options: { keys: CredentialVerifier }): Stage {
  const { keys } = options
  if (typeof keys?.verify !== 'function') throw new Error('createAuthenticateStage: keys.verify is required')
  return {
    name: 'authenticate',
    onRequest (ctx) {
      const credential = extractCredential(ctx.headers)
      if (credential === null) throw new GatewayError('missing_credentials')
      const verified = keys.verify(credential)
      // A cached key answers synchronously: no promise, no microtask on the hot path.
      if (!(verified instanceof Promise)) {
        ctx.principal = verified
        return
      }
      return verified.then((principal) => { ctx.principal = principal })
    }
  }
}
