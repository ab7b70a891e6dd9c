import type { Stage } from '../pipeline/stage.ts'
import type { Provider } from './provider.ts'
import type { CompiledRoutes } from './model-routes.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { modelAllowed } from '../lib/model-pattern.ts'
import { findModelTarget, routedUpstreams } from './model-routes.ts'
import { MOCK_OWNER, modelEntry, type ModelEntry } from './mock/mock-models.ts'

export interface RouteStageOptions {
  /** The config's `models`, compiled (build-upstreams.ts). */
  readonly routes: CompiledRoutes
  /** Providers by upstream name. */
  readonly providers: ReadonlyMap<string, Provider>
}

/**
 * Resolves the caller's model to an upstream (exact names first, then the longest prefix) and
 * answers `GET /v1/models` locally with the exact model names the caller may use. Mock models
 * are owned by `portcullis-mock`, so a demo answer is never mistaken for a real one.
 */
export function createRouteStage (options: RouteStageOptions): Stage {
  const { routes, providers } = options
  for (const name of routedUpstreams(routes)) {
    if (!providers.has(name)) throw new Error(`route stage: no provider for upstream "${name}"`)
  }
  const listed: readonly ModelEntry[] = [...routes.exact].map(([id, target]) =>
    modelEntry(id, providers.get(target.upstream)?.type === 'mock' ? MOCK_OWNER : target.upstream))

  return {
    name: 'route',
    onRequest (ctx) {
      if (ctx.endpoint === 'models') {
        const allowlist = ctx.principal?.models ?? null
        const data = allowlist === null ? listed : listed.filter((entry) => modelAllowed(allowlist, entry.id))
        ctx.upstream = { kind: 'json', status: 200, body: { object: 'list', data }, usage: null, headers: {} }
        return
      }
      const model = ctx.model
      if (model === null) throw new GatewayError('invalid_request', { message: 'The "model" field is required.', param: 'model' })
      const target = findModelTarget(routes, model)
      if (target === null) throw new GatewayError('model_not_found', { param: 'model' })
      ctx.route = { upstream: target.upstream, upstreamModel: target.upstreamModel ?? model, provider: providers.get(target.upstream) as Provider }
    }
  }
}
