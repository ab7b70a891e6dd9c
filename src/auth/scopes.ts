/** Scopes a proxy credential may carry, one per endpoint family. */
export const proxyScopes = Object.freeze(['chat', 'completions', 'embeddings', 'models:read'] as const)

/** Admin scopes: `admin` grants every admin right, `admin:<resource>` one resource. */
export const adminScopes = Object.freeze(['admin', 'admin:keys'] as const)

export type ProxyScope = typeof proxyScopes[number]
export type AdminScope = typeof adminScopes[number]
export type Scope = ProxyScope | AdminScope

const known = new Set<string>([...proxyScopes, ...adminScopes])

export function isAdminScope (scope: string): scope is AdminScope {
  return (adminScopes as readonly string[]).includes(scope)
}

export function isKnownScope (scope: string): scope is Scope {
  return known.has(scope)
}

/** True when `granted` satisfies `required`; `admin` satisfies every `admin:*` scope. */
export function hasScope (granted: ReadonlySet<string>, required: Scope): boolean {
  if (granted.has(required)) return true
  return required.startsWith('admin:') && granted.has('admin')
}
