import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '../pipeline/context.ts'
import type { KeyService } from '../auth/key-service.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { authenticateHeaders } from '../auth/authenticate-stage.ts'
import { hasScope, type AdminScope } from '../auth/scopes.ts'
import { keyRoutes } from './keys-routes.ts'

/** What an admin handler sees: framework-free, with the caller already authenticated and authorised. */
export interface AdminRequest {
  readonly principal: Principal
  /** Who did it, for `created_by` and audit records: a key id or `bootstrap_admin`. */
  readonly actor: string
  readonly params: Readonly<Record<string, string>>
  readonly query: unknown
  readonly body: unknown
}

export interface AdminReply {
  readonly status?: number
  readonly body: unknown
}

/**
 * One admin endpoint. `scope` is required by the type and checked before the body is even
 * parsed, so a new route cannot forget its authorisation.
 */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Relative to `/admin/v1`. */
  readonly url: string
  readonly scope: AdminScope
  handler (request: AdminRequest): Promise<AdminReply>
}

export interface AdminDeps {
  readonly keys: KeyService
}

/** Every admin route, in one table. */
function adminRoutes (deps: AdminDeps): readonly AdminRoute[] {
  return [...keyRoutes(deps.keys)]
}

/** Registers `/admin/v1/…`. Errors are thrown as GatewayError for the server's error handler. */
export async function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const routes = adminRoutes(deps)
  const principals = new WeakMap<FastifyRequest, Principal>()
  await app.register(async function adminApi (scope) {
    // onRequest runs before body parsing: an unauthenticated caller cannot make us parse anything.
    scope.addHook('onRequest', async (request) => {
      const required = (request.routeOptions.config as { adminScope?: AdminScope }).adminScope
      const principal = await authenticateHeaders(request.headers, deps.keys)
      if (required === undefined) throw new GatewayError('forbidden')
      if (!hasScope(principal.scopes, required)) throw new GatewayError('insufficient_scope')
      principals.set(request, principal)
    })
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        config: { adminScope: route.scope },
        handler: async (request, reply) => {
          const principal = principals.get(request)
          if (principal === undefined) throw new GatewayError('forbidden')
          const result = await route.handler({
            principal,
            actor: principal.keyId ?? principal.kind,
            params: request.params as Record<string, string>,
            query: request.query,
            body: request.body ?? {}
          })
          reply.code(result.status ?? 200).header('cache-control', 'no-store')
          return result.body
        }
      })
    }
  }, { prefix: '/admin/v1' })
}
