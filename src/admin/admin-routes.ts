import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '../pipeline/context.ts'
import type { CredentialAuthenticator } from '../auth/credential-authenticator.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { hasScope, type AdminScope } from '../auth/scopes.ts'

/** What an admin handler sees: framework-free, with the caller already authenticated and authorised. */
export interface AdminRequest {
  readonly principal: Principal
  /** Who did it, for `created_by` and audit records: a key id or `bootstrap_admin`. */
  readonly actor: string
  /** The client address after trusted proxies, for audit records. */
  readonly ip: string
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
  readonly credentials: CredentialAuthenticator
  readonly resolveClientIp: ClientIpResolver
  /** Every admin route, in one table (see admin-route-table.ts). */
  readonly routes: readonly AdminRoute[]
}

/** Registers `/admin/v1/…`. Errors are thrown as GatewayError for the server's error handler. */
export async function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { routes } = deps
  const principals = new WeakMap<FastifyRequest, { principal: Principal, ip: string }>()
  await app.register(async function adminApi (scope) {
    // onRequest runs before body parsing: an unauthenticated caller cannot make us parse anything.
    scope.addHook('onRequest', async (request) => {
      const required = (request.routeOptions.config as { adminScope?: AdminScope }).adminScope
      const ip = deps.resolveClientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for'])
      const principal = await deps.credentials.authenticate(request.headers, ip)
      if (required === undefined) throw new GatewayError('forbidden')
      if (!hasScope(principal.scopes, required)) throw new GatewayError('insufficient_scope')
      principals.set(request, { principal, ip })
    })
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        config: { adminScope: route.scope },
        handler: async (request, reply) => {
          const caller = principals.get(request)
          if (caller === undefined) throw new GatewayError('forbidden')
          const { principal, ip } = caller
          const result = await route.handler({
            principal,
            actor: actorOf(principal),
            ip,
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

/** Who did it, as audit records and `created_by` name it: a key id, a client id, an external subject. */
export function actorOf (principal: Principal): string {
  if (principal.keyId !== null) return principal.keyId
  if (principal.kind === 'oauth_client' && principal.clientId !== null) return principal.clientId
  if (principal.kind === 'external_token') return `${principal.subject ?? 'unknown'}@external`
  return principal.kind
}
