import type { ModelRouteConfig } from '../config/config-schema.ts'

/** One target of the model map: which upstream, and the model name to send it. */
export interface ModelTarget {
  readonly upstream: string
  /** null = send the caller's model name. */
  readonly upstreamModel: string | null
}

/** The config's `models` compiled once at start-up: exact names, then prefixes longest first. */
export interface CompiledRoutes {
  readonly exact: ReadonlyMap<string, ModelTarget>
  /** Longest prefix first; equal lengths keep config order. */
  readonly prefixes: ReadonlyArray<{ readonly prefix: string, readonly target: ModelTarget }>
}

/** Compiles `models` routes; a name listed twice is a config error. */
export function compileModelRoutes (routes: readonly ModelRouteConfig[]): CompiledRoutes {
  const exact = new Map<string, ModelTarget>()
  const prefixes: Array<{ prefix: string, target: ModelTarget }> = []
  const seen = new Set<string>()
  for (const route of routes) {
    if (seen.has(route.name)) throw new Error(`models: "${route.name}" is listed twice`)
    seen.add(route.name)
    const target = { upstream: route.upstream, upstreamModel: route.upstream_model ?? null }
    if (route.name.endsWith('*')) prefixes.push({ prefix: route.name.slice(0, -1), target })
    else exact.set(route.name, target)
  }
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length)
  return { exact, prefixes }
}

/** Exact name first, then the longest matching prefix; null when no route serves the model. */
export function findModelTarget (routes: CompiledRoutes, model: string): ModelTarget | null {
  const exact = routes.exact.get(model)
  if (exact !== undefined) return exact
  for (const { prefix, target } of routes.prefixes) if (model.startsWith(prefix)) return target
  return null
}

/** Every upstream name the routes point at. */
export function routedUpstreams (routes: CompiledRoutes): Set<string> {
  const names = new Set<string>()
  for (const target of routes.exact.values()) names.add(target.upstream)
  for (const { target } of routes.prefixes) names.add(target.upstream)
  return names
}
