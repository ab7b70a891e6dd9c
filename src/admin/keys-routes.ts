import { z } from 'zod'
import type { AdminRoute } from './admin-routes.ts'
import type { KeyService } from '../auth/key-service.ts'
import type { Principal } from '../pipeline/context.ts'
import type { KeyRecord } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { hasScope, isAdminScope } from '../auth/scopes.ts'
import { expandRoles, type RoleTable } from '../auth/roles.ts'
import { assertVisible, createTenant, isVisibleTo, listTenant } from './tenant-scope.ts'
import { isPublicKeyId } from '../auth/api-key-format.ts'
import { keyJson } from './key-json.ts'
import { emptyBody, listQuery, parseInput, rotateBody } from './parse-input.ts'

// Unix seconds beyond this (year 5138) are almost certainly milliseconds sent by mistake.
const maxUnixSeconds = 99_999_999_999

const createBody = z.strictObject({
  name: z.string(),
  tenant: z.string().nullable().optional(),
  scopes: z.array(z.string()).default([]),
  roles: z.array(z.string()).optional(),
  models: z.array(z.string()).nullable().optional(),
  allowed_ips: z.array(z.string()).nullable().optional(),
  expires_in: z.number().int().positive().max(maxUnixSeconds).optional(),
  expires_at: z.union([z.iso.datetime({ offset: true }), z.number().int().positive().max(maxUnixSeconds, 'must be Unix seconds')]).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional()
})


function expiryOf (body: z.output<typeof createBody>, now: number): number | null {
  if (body.expires_in !== undefined && body.expires_at !== undefined && body.expires_at !== null) {
    throw new GatewayError('invalid_request', { param: 'expires_in', message: 'Send expires_in or expires_at, not both.' })
  }
  if (body.expires_in !== undefined) return now + body.expires_in * 1000
  if (body.expires_at === undefined || body.expires_at === null) return null
  return typeof body.expires_at === 'number' ? body.expires_at * 1000 : Date.parse(body.expires_at)
}

function keyNotFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No API key with this id.', param: 'id' })
}

/** The key id from the path; a string that cannot be an id is a 404 without a store lookup. */
function keyId (params: Readonly<Record<string, string>>): string {
  const id = params.id ?? ''
  if (!isPublicKeyId(id)) throw keyNotFound()
  return id
}

/** The key, if the caller's tenant may see it; another tenant's key is exactly a missing one. */
async function visibleKey (keys: KeyService, principal: Principal, params: Readonly<Record<string, string>>): Promise<KeyRecord> {
  const key = await keys.get(keyId(params))
  assertVisible(principal, key.tenant, keyNotFound)
  return key
}

/**
 * No escalation: a caller may grant, rotate or revoke admin rights only if it holds them. A
 * holder of `admin:keys` issues proxy keys freely, but cannot mint an `admin` key, nor rotate one
 * (which would hand it the new secret), nor revoke one.
 */
function assertMayManage (principal: Principal, scopes: readonly string[], param: string | null): void {
  for (const scope of scopes) {
    if (isAdminScope(scope) && !hasScope(principal.scopes, scope)) {
      throw new GatewayError('insufficient_scope', { message: `Only a holder of "${scope}" may grant or manage it.`, param })
    }
  }
}

function effectiveScopes (key: KeyRecord, roles: RoleTable): string[] {
  return [...expandRoles(roles, key.scopes, key.roles)]
}

function afterInvalid (): GatewayError {
  return new GatewayError('invalid_request', { param: 'after', message: 'after must be the id of a key from the previous page' })
}

/** `/admin/v1/keys`: create (secret shown once), list, get, revoke, rotate. */
export function keyRoutes (keys: KeyService, roles: RoleTable = keys.roles): AdminRoute[] {
  return [
    {
      method: 'POST', url: '/keys', scope: 'admin:keys',
      async handler ({ body, actor, principal }) {
        const input = parseInput(createBody, body)
        assertMayManage(principal, [...input.scopes], 'scopes')
        assertMayManage(principal, [...expandRoles(roles, [], input.roles ?? [])], 'roles')
        const { key, secret } = await keys.create({
          name: input.name,
          tenant: createTenant(principal, input.tenant),
          scopes: input.scopes,
          roles: input.roles ?? [],
          models: input.models ?? null,
          allowedIps: input.allowed_ips ?? null,
          expiresAt: expiryOf(input, keys.now()), metadata: input.metadata ?? null, createdBy: actor
        })
        return { status: 201, body: keyJson(key, keys.status(key), secret) }
      }
    },
    {
      method: 'GET', url: '/keys', scope: 'admin:keys',
      async handler ({ query, principal }) {
        const q = parseInput(listQuery, query)
        const tenant = listTenant(principal, q.tenant ?? null)
        if (q.after !== undefined && principal.tenant !== null) {
          // Another tenant's id as a cursor is refused exactly like an unknown one.
          const after = await keys.get(q.after).catch(() => null)
          if (after === null || !isVisibleTo(principal, after.tenant)) throw afterInvalid()
        }
        const page = await keys.list({ limit: q.limit ?? 20, after: q.after ?? null, tenant })
        const data = page.items.map((k) => keyJson(k, keys.status(k)))
        return { body: { object: 'list', data, has_more: page.hasMore, next_cursor: page.hasMore ? (data.at(-1)?.id ?? null) : null } }
      }
    },
    {
      method: 'GET', url: '/keys/:id', scope: 'admin:keys',
      async handler ({ params, principal }) {
        const key = await visibleKey(keys, principal, params)
        return { body: keyJson(key, keys.status(key)) }
      }
    },
    {
      method: 'POST', url: '/keys/:id/revoke', scope: 'admin:keys',
      async handler ({ params, body, principal }) {
        parseInput(emptyBody, body)
        const target = await visibleKey(keys, principal, params)
        assertMayManage(principal, effectiveScopes(target, roles), null)
        const key = await keys.revoke(target.id)
        return { body: keyJson(key, keys.status(key)) }
      }
    },
    {
      method: 'POST', url: '/keys/:id/rotate', scope: 'admin:keys',
      async handler ({ params, body, principal }) {
        const input = parseInput(rotateBody, body)
        const target = await visibleKey(keys, principal, params)
        assertMayManage(principal, effectiveScopes(target, roles), null)
        const { key, secret } = await keys.rotate(target.id, input.grace_period_seconds ?? 0)
        return { body: keyJson(key, keys.status(key), secret) }
      }
    }
  ]
}
