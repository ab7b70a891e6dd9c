import type { Principal } from '../pipeline/context.ts'
import { GatewayError } from '../errors/gateway-error.ts'

/**
 * Tenant isolation for the admin API. A credential bound to a tenant (`principal.tenant` set)
 * administers that tenant only: it lists only its tenant's objects, creates objects only in it,
 * and an object of another tenant (or of no tenant) answers exactly like a missing one — 404
 * `not_found` — so ids of other tenants cannot even be confirmed. A credential without a tenant
 * is the operator and sees everything.
 */
export function isVisibleTo (principal: Principal, tenant: string | null): boolean {
  return principal.tenant === null || principal.tenant === tenant
}

/** Throws the given not-found error unless the object's tenant is visible to the caller. */
export function assertVisible (principal: Principal, tenant: string | null, notFound: () => GatewayError): void {
  if (!isVisibleTo(principal, tenant)) throw notFound()
}

/**
 * The tenant a list query is confined to: a tenant-bound caller gets its own tenant whatever it
 * asked (asking for another one is refused with 403 rather than silently answered with its own).
 */
export function listTenant (principal: Principal, requested: string | null): string | null {
  if (principal.tenant === null) return requested
  if (requested !== null && requested !== principal.tenant) {
    throw new GatewayError('forbidden', { param: 'tenant', message: 'This credential administers its own tenant only.' })
  }
  return principal.tenant
}

/**
 * The tenant a new object is created in: a tenant-bound caller creates in its own tenant
 * (the field may be omitted or repeat it); naming another tenant is 403 `forbidden`.
 */
export function createTenant (principal: Principal, requested: string | null | undefined): string | null {
  if (principal.tenant === null) return requested ?? null
  if (requested !== undefined && requested !== null && requested !== principal.tenant) {
    throw new GatewayError('forbidden', { param: 'tenant', message: 'This credential may create objects in its own tenant only.' })
  }
  return principal.tenant
}
