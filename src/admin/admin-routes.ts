import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '../pipeline/context.ts'
import type { CredentialAuthenticator } from '../auth/credential-authenticator.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { hasScope, type AdminScope } from '../auth/scopes.ts'
import type { EvidenceSink } from '../audit/evidence-sink.ts'
import { adminAction, adminRecord, errorCodeOf, type AdminAction } from './admin-audit.ts'

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
  /**
   * Where every admin request is recorded, allowed or refused, reads included (docs/audit.md).
   * Required: an admin API wired without its evidence must not compile.
   */
  readonly audit: EvidenceSink
}

/** What the hooks learn about one admin request, for its audit record. */
interface AdminCall {
  readonly ip: string
  readonly action: AdminAction
  /** Set once authenticated, so a refused caller is still named in the record. */
  principal: Principal | null
  /** Set only after the scope check passed: the handler runs for nobody else. */
  authorised: boolean
  replyBody: unknown
}

interface AdminRouteConfig {
  readonly adminScope?: AdminScope
  readonly adminAction?: AdminAction
}

/**
 * Registers `/admin/v1/…`. Errors are thrown as GatewayError for the server's error handler.
 * Every request that reaches a route, whatever its outcome, leaves one `type: 'admin'` record,
 * queued in `onSend`, so before the caller sees the answer.
 */
export async function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { routes, audit } = deps
  const calls = new WeakMap<FastifyRequest, AdminCall>()
  await app.register(async function adminApi (scope) {
    // onRequest runs before body parsing: an unauthenticated caller cannot make us parse anything.
    scope.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config as AdminRouteConfig
      const ip = deps.resolveClientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for'])
      const action = config.adminAction ?? adminAction(request.method, (request.routeOptions.url ?? '').replace(/^\/admin\/v1/, ''))
      const call: AdminCall = { ip, action, principal: null, authorised: false, replyBody: undefined }
      calls.set(request, call)
      // Fail closed before the handler: no admin change may happen that the log cannot record.
      if (!audit.accepting()) throw new GatewayError('service_unavailable')
      const principal = await deps.credentials.authenticate(request.headers, ip)
      call.principal = principal
      if (config.adminScope === undefined) throw new GatewayError('forbidden')
      if (!hasScope(principal.scopes, config.adminScope)) throw new GatewayError('insufficient_scope')
      call.authorised = true
    })
    scope.addHook('onSend', async (request, reply, payload) => {
      const call = calls.get(request)
      if (call === undefined) return payload
      calls.delete(request)
      const status = reply.statusCode
      audit.record(adminRecord({
        requestId: request.id,
        ip: call.ip,
        principal: call.principal,
        actor: call.principal === null ? null : actorOf(call.principal),
        action: call.action,
        params: (request.params ?? {}) as Record<string, string>,
        replyBody: call.replyBody,
        status,
        outcome: status < 400 ? 'success' : errorCodeOf(payload, status)
      }))
      return payload
    })
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        config: { adminScope: route.scope, adminAction: adminAction(route.method, route.url) } satisfies AdminRouteConfig,
        handler: async (request, reply) => {
          const call = calls.get(request)
          if (call === undefined || !call.authorised || call.principal === null) throw new GatewayError('forbidden')
          const { principal, ip } = call
          const result = await route.handler({
            principal,
            actor: actorOf(principal),
            ip,
            params: request.params as Record<string, string>,
            query: request.query,
            body: request.body ?? {}
          })
          call.replyBody = result.body
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
