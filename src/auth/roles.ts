import { isKnownScope, type Scope } from './scopes.ts'

/** Role name → the scopes it bundles. */
export type RoleTable = Readonly<Record<string, readonly Scope[]>>

/**
 * The built-in roles. `auth.roles` in the config may redefine any of them or add others.
 * A role bound to a tenant (the credential has a tenant) acts inside that tenant only, so
 * `tenant-admin` is `admin:*` for one tenant, while `admin` without a tenant is the operator.
 */
export const defaultRoles: RoleTable = Object.freeze({
  user: Object.freeze(['chat', 'completions', 'embeddings', 'models:read'] as Scope[]),
  developer: Object.freeze(['chat', 'completions', 'embeddings', 'models:read', 'admin:usage'] as Scope[]),
  auditor: Object.freeze(['admin:audit', 'admin:usage', 'metrics:read'] as Scope[]),
  'tenant-admin': Object.freeze(['chat', 'completions', 'embeddings', 'models:read', 'admin:keys', 'admin:clients', 'admin:audit', 'admin:usage'] as Scope[]),
  admin: Object.freeze(['admin'] as Scope[])
})

export const roleNamePattern = /^[a-z][a-z0-9_-]{0,63}$/

/** Merges configured roles over the built-ins; throws naming the role for an unknown scope. */
export function compileRoles (configured: Readonly<Record<string, readonly string[]>> = {}): RoleTable {
  const table: Record<string, readonly Scope[]> = { ...defaultRoles }
  for (const [name, scopes] of Object.entries(configured)) {
    if (!roleNamePattern.test(name)) throw new Error(`auth.roles: "${name}" is not a valid role name`)
    for (const scope of scopes) {
      if (!isKnownScope(scope)) throw new Error(`auth.roles.${name}: unknown scope "${scope}"`)
    }
    table[name] = Object.freeze([...new Set(scopes)] as Scope[])
  }
  return Object.freeze(table)
}

/**
 * Scopes plus the scopes of every role. An unknown role grants nothing (a role removed from the
 * config takes its rights with it) rather than failing the request.
 */
export function expandRoles (roles: RoleTable, scopes: readonly string[], roleNames: readonly string[]): Set<string> {
  const out = new Set<string>(scopes)
  for (const name of roleNames) {
    const bundle = Object.hasOwn(roles, name) ? roles[name] : undefined
    if (bundle !== undefined) for (const scope of bundle) out.add(scope)
  }
  return out
}
