/** Scopes a proxy credential may carry, one per endpoint family. */
export const proxyScopes = Object.freeze(['chat', 'completions', 'embeddings', 'models:read'] as const)

/**
 * Administration scopes: `admin` grants every other one; `admin:<resource>` one resource;
 * `metrics:read` the Prometheus endpoint only.
 */
export const adminScopes = Object.freeze([
  'admin', 'admin:keys', 'admin:clients', 'admin:audit', 'admin:usage', 'admin:config', 'metrics:read'
] as const)

/** OAuth resource-server scope: introspect tokens of other clients of the same tenant (RFC 7662 §4). */
export const oauthScopes = Object.freeze(['oauth:introspect'] as const)

export type ProxyScope = typeof proxyScopes[number]
export type AdminScope = typeof adminScopes[number]
export type OAuthScope = typeof oauthScopes[number]
export type Scope = ProxyScope | AdminScope | OAuthScope

/** Every scope, in documentation order. */
export const allScopes: readonly Scope[] = Object.freeze([...proxyScopes, ...adminScopes, ...oauthScopes])

const known = new Set<string>(allScopes)

export function isAdminScope (scope: string): scope is AdminScope {
  return (adminScopes as readonly string[]).includes(scope)
}

export function isKnownScope (scope: string): scope is Scope {
  return known.has(scope)
}

/** True when `granted` satisfies `required`; `admin` satisfies every other administration scope. */
export function hasScope (granted: ReadonlySet<string>, required: Scope): boolean {
  if (granted.has(required)) return true
  return isAdminScope(required) && granted.has('admin')
}
