import type { Stage } from '../pipeline/stage.ts'
import type { CredentialAuthenticator } from './credential-authenticator.ts'

export { extractCredential } from './credential-authenticator.ts'

/** Sets `ctx.principal` from the request's API key or access token (after the edge set `clientIp`). */
export function createAuthenticateStage (options: { credentials: CredentialAuthenticator }): Stage {
  const { credentials } = options
  if (typeof credentials?.authenticate !== 'function') throw new Error('createAuthenticateStage: credentials.authenticate is required')
  return {
    name: 'authenticate',
    onRequest (ctx) {
      const verified = credentials.authenticate(ctx.headers, ctx.clientIp)
      // A cached credential answers synchronously: no promise, no microtask on the hot path.
      if (!(verified instanceof Promise)) {
        ctx.principal = verified
        return
      }
      return verified.then((principal) => { ctx.principal = principal })
    }
  }
}
