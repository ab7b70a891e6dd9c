import type { Endpoint, Principal } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { modelAllowed } from '../lib/model-pattern.ts'
import { proxyScopes, type ProxyScope } from './scopes.ts'

/** Scopes that open each endpoint: any one of them is enough. */
const endpointScopes: Readonly<Record<Endpoint, readonly ProxyScope[]>> = Object.freeze({
  'chat.completions': ['chat'],
  completions: ['completions'],
  embeddings: ['embeddings'],
  // Listing models is harmless for any proxy credential; `models:read` grants only that.
  models: proxyScopes
})

/** Throws `insufficient_scope` unless the principal may call the endpoint. */
export function checkEndpointScope (principal: Principal, endpoint: Endpoint): void {
  for (const scope of endpointScopes[endpoint]) if (principal.scopes.has(scope)) return
  throw new GatewayError('insufficient_scope')
}

/** Checks scopes against the endpoint and the requested model against the principal's allowlist. */
export function createAuthorizeStage (): Stage {
  return {
    name: 'authorize',
    onRequest (ctx) {
      const principal = ctx.principal
      if (principal === null) throw new GatewayError('missing_credentials')
      checkEndpointScope(principal, ctx.endpoint)
      if (ctx.model !== null && !modelAllowed(principal.models, ctx.model)) {
        throw new GatewayError('model_not_allowed', { param: 'model' })
      }
    }
  }
}
