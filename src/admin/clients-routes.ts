import { z } from 'zod'
import type { AdminRequest, AdminRoute } from './admin-routes.ts'
import type { ClientService } from '../oauth/client-service.ts'
import type { ClientRecord } from '../store/store.ts'
import type { Principal } from '../pipeline/context.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { hasScope, isAdminScope } from '../auth/scopes.ts'
import { isClientId } from '../oauth/client-rules.ts'
import { clientJson, type DeletedClientJson } from './client-json.ts'
import { emptyBody, listQuery, parseInput, rotateBody } from './parse-input.ts'
import { assertVisible, createTenant, isVisibleTo, listTenant } from './tenant-scope.ts'

const createBody = z.strictObject({
  name: z.string(),
  tenant: z.string().nullable().optional(),
  scopes: z.array(z.string()).optional(),
  roles: z.array(z.string()).optional(),
  models: z.array(z.string()).nullable().optional(),
  allowed_ips: z.array(z.string()).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional()
})


function notFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No OAuth client with this id.', param: 'id' })
}

/** The client id from the path; a string that cannot be an id is a 404 without a store lookup. */
function clientId (params: Readonly<Record<string, string>>): string {
  const id = params.id ?? ''
  if (!isClientId(id)) throw notFound()
  return id
}

/**
 * No escalation, as in keys-routes.ts: a caller may grant admin rights to a client, or change a
 * client holding them, only if it holds them itself. Roles count by what they expand to, so
 * `roles: ['admin']` is refused to a holder of `admin:clients` just like `scopes: ['admin']`.
 */
function assertMayManage (principal: Principal, effective: ReadonlySet<string>, param: string | null): void {
  for (const scope of effective) {
    if (isAdminScope(scope) && !hasScope(principal.scopes, scope)) {
      throw new GatewayError('insufficient_scope', { message: `Only a holder of "${scope}" may grant or manage it.`, param })
    }
  }
}

/**
 * The client named in the path, if the caller may see it: another tenant's client is a 404
 * exactly like a missing one (tenant-scope.ts), checked before anything that could answer 403.
 */
async function visibleClient (clients: ClientService, { params, principal }: AdminRequest): Promise<ClientRecord> {
  const client = await clients.get(clientId(params))
  assertVisible(principal, client.tenant, notFound)
  return client
}

/** A visible client the caller may also change: body checked, no escalation. */
async function manageableClient (clients: ClientService, request: AdminRequest): Promise<ClientRecord> {
  const client = await visibleClient(clients, request)
  assertMayManage(request.principal, clients.effectiveScopes(client.scopes, client.roles), null)
  return client
}

/** A change without a body: disable, enable, revoke-tokens. */
function action (clients: ClientService, url: string, apply: (id: string) => Promise<ClientRecord>): AdminRoute {
  return {
    method: 'POST', url, scope: 'admin:clients',
    async handler (request) {
      parseInput(emptyBody, request.body)
      const { id } = await manageableClient(clients, request)
      const client = await apply(id)
      return { body: clientJson(client, clients.status(client)) }
    }
  }
}

/** `/admin/v1/clients`: register (secret shown once), list, get, disable, enable, rotate, revoke tokens, delete. */
export function clientRoutes (clients: ClientService): AdminRoute[] {
  return [
    {
      method: 'POST', url: '/clients', scope: 'admin:clients',
      async handler ({ body, actor, principal }) {
        const input = parseInput(createBody, body)
        const tenant = createTenant(principal, input.tenant)
        assertMayManage(principal, new Set(input.scopes), 'scopes')
        assertMayManage(principal, clients.effectiveScopes([], input.roles ?? []), 'roles')
        const { client, secret } = await clients.create({
          name: input.name, tenant, scopes: input.scopes ?? [], roles: input.roles ?? [], models: input.models ?? null,
          allowedIps: input.allowed_ips ?? null, metadata: input.metadata ?? null, createdBy: actor
        })
        return { status: 201, body: clientJson(client, clients.status(client), secret) }
      }
    },
    {
      method: 'GET', url: '/clients', scope: 'admin:clients',
      async handler ({ query, principal }) {
        const q = parseInput(listQuery, query)
        const tenant = listTenant(principal, q.tenant ?? null)
        const after = q.after ?? null
        // Another tenant's id as a cursor must fail exactly like an unknown one.
        if (after !== null && isClientId(after) && !isVisibleTo(principal, (await clients.find(after))?.tenant ?? null)) {
          throw new GatewayError('invalid_request', { param: 'after', message: 'after must be the id of a client from the previous page' })
        }
        const page = await clients.list({ limit: q.limit ?? 20, after, tenant })
        const data = page.items.map((c) => clientJson(c, clients.status(c)))
        return { body: { object: 'list', data, has_more: page.hasMore, next_cursor: page.hasMore ? (data.at(-1)?.id ?? null) : null } }
      }
    },
    {
      method: 'GET', url: '/clients/:id', scope: 'admin:clients',
      async handler (request) {
        const client = await visibleClient(clients, request)
        return { body: clientJson(client, clients.status(client)) }
      }
    },
    action(clients, '/clients/:id/disable', (id) => clients.disable(id)),
    action(clients, '/clients/:id/enable', (id) => clients.enable(id)),
    action(clients, '/clients/:id/revoke-tokens', (id) => clients.revokeTokens(id)),
    {
      method: 'POST', url: '/clients/:id/rotate', scope: 'admin:clients',
      async handler (request) {
        const input = parseInput(rotateBody, request.body)
        const { id } = await manageableClient(clients, request)
        const { client, secret } = await clients.rotate(id, input.grace_period_seconds ?? 0)
        return { body: clientJson(client, clients.status(client), secret) }
      }
    },
    {
      method: 'DELETE', url: '/clients/:id', scope: 'admin:clients',
      async handler (request) {
        parseInput(emptyBody, request.body)
        const { id } = await manageableClient(clients, request)
        await clients.delete(id)
        const body: DeletedClientJson = { id, object: 'oauth_client', deleted: true }
        return { body }
      }
    }
  ]
}
