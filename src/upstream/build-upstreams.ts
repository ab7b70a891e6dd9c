import { upstreamSchema, type Config, type ModelRouteConfig, type SecretRef, type UpstreamConfig } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Provider } from './provider.ts'
import { createMockProvider } from './mock/mock-provider.ts'
import { MOCK_MODEL_NAMES } from './mock/mock-models.ts'
import { createOpenAIProvider } from './openai-provider.ts'
import { compileModelRoutes, type CompiledRoutes } from './model-routes.ts'

export type { CompiledRoutes } from './model-routes.ts'

/** Resolves a secret reference (config/secret-ref.ts `resolveSecret`, bound to its source). */
export type SecretResolver = (ref: SecretRef) => Promise<string>

export interface BuiltUpstreams {
  /** Providers by upstream name; close them all on shutdown. */
  readonly providers: Map<string, Provider>
  /** The compiled model map for `createRouteStage`. */
  readonly routes: CompiledRoutes
}

/** Upstream name of the built-in mock used when no upstream is configured. */
export const BUILTIN_MOCK_NAME = 'mock'

/**
 * Builds one provider per configured upstream (resolving provider keys and CA bundles once, at
 * start-up). With no upstream configured, the built-in mock serves `mock-gpt`, `mock-embedding`
 * and any other `mock-*` name, so the demo works without a provider key.
 */
export async function buildUpstreams (
  config: Pick<Config, 'upstreams' | 'models'>, resolveSecretFn: SecretResolver, log?: Logger
): Promise<BuiltUpstreams> {
  if (config.upstreams.length === 0) {
    const mock = upstreamSchema.parse({ name: BUILTIN_MOCK_NAME, type: 'mock' })
    return { providers: new Map([[BUILTIN_MOCK_NAME, createMockProvider(mock)]]), routes: compileModelRoutes(defaultMockRoutes()) }
  }
  const routes = compileModelRoutes(config.models)
  const providers = new Map<string, Provider>()
  try {
    for (const upstream of config.upstreams) providers.set(upstream.name, await buildProvider(upstream, resolveSecretFn, log))
  } catch (err) {
    await Promise.all([...providers.values()].map((p) => p.close()))
    throw err
  }
  return { providers, routes }
}

async function buildProvider (upstream: UpstreamConfig, resolveSecretFn: SecretResolver, log: Logger | undefined): Promise<Provider> {
  if (upstream.type === 'mock') return createMockProvider(upstream)
  const apiKey = upstream.api_key === undefined ? null : await resolveSecretFn(upstream.api_key)
  const caPem = upstream.ca === undefined ? null : await resolveSecretFn(upstream.ca)
  return createOpenAIProvider(upstream, apiKey, log === undefined ? { caPem } : { caPem, log })
}

function defaultMockRoutes (): ModelRouteConfig[] {
  return [...MOCK_MODEL_NAMES, 'mock-*'].map((name) => ({ name, upstream: BUILTIN_MOCK_NAME }))
}
