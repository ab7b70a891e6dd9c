import type { GuardsConfig } from '../config/guards-schema.ts'
import type { SecretRef } from '../config/config-schema.ts'
import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { GuardSession } from './guard-session.ts'
import { createGuardModelClient, type GuardModelClient } from './guard-model-client.ts'
import { compileGuardPolicies } from './guard-policy.ts'
import { createInputGuardStage } from './input-guard-stage.ts'
import { createOutputGuardStage } from './output-guard-stage.ts'

export interface GuardsOptions {
  readonly config: GuardsConfig
  readonly resolveSecret: (ref: SecretRef) => Promise<string>
  /** The metrics' `guardVerdict` (a no-op when metrics are off). */
  readonly verdict: (detector: string, action: string) => void
}

/** The two guard stages (input before route, output after forward) and what shutdown releases. */
export interface Guards {
  readonly input: Stage
  readonly output: Stage
  close (): Promise<void>
}

/**
 * Compiles `guards` at start-up: policies, detectors, the guard model client (its key resolved
 * once). Null when `guards.enabled` is false, so the request path carries no guard stage at all.
 * Throws with a config-level message on an invalid setting (e.g. an unknown injection signal).
 */
export async function buildGuards (options: GuardsOptions): Promise<Guards | null> {
  const { config } = options
  if (!config.enabled) return null
  let policies
  try {
    policies = compileGuardPolicies(config)
  } catch (err) {
    throw new Error(`guards: ${(err as Error).message}`)
  }
  let guardModel: GuardModelClient | null = null
  const model = config.guard_model
  if (model !== undefined) {
    try {
      guardModel = createGuardModelClient({
        baseUrl: model.base_url,
        model: model.model,
        apiKey: model.api_key === undefined ? null : await options.resolveSecret(model.api_key),
        caPem: model.ca === undefined ? null : await options.resolveSecret(model.ca),
        timeoutMs: model.timeout_ms,
        onFailure: model.on_failure,
        scoreThreshold: model.score_threshold
      })
    } catch (err) {
      throw new Error(`guards.guard_model: ${(err as Error).message}`)
    }
  }
  const sessions = new WeakMap<RequestContext, GuardSession>()
  return {
    input: createInputGuardStage({ policies, guardModel, sessions, verdict: options.verdict }),
    output: createOutputGuardStage({ sessions, verdict: options.verdict }),
    close: async () => { await guardModel?.close() }
  }
}
