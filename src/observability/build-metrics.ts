import type { Config } from '../config/config-schema.ts'
import type { CompiledRoutes } from '../upstream/model-routes.ts'
import { createMetricsRegistry, type AuditGaugeSource, type GatewayMetrics } from './metrics-registry.ts'
import { createMetricsStages, type MetricsStages } from './metrics-stage.ts'
import { createModelLabeler } from './metrics-labels.ts'

export interface MetricsOptions {
  readonly config: Readonly<Pick<Config, 'metrics'>>
  /** The compiled model map: its names are the only model label values. */
  readonly routes: CompiledRoutes
  /** Read at scrape time for the audit gauges; returns null while there is no audit log. */
  readonly auditStatus?: () => AuditGaugeSource | null
}

/** The metrics of a running gateway, or their absence (`metrics.enabled: false`). */
export interface Metrics {
  /** Null when metrics are disabled: no stages, no `/metrics`. */
  readonly registry: GatewayMetrics | null
  /** The observe stage (front of the pipeline) and the upstream timer (right before forward). */
  readonly stages: MetricsStages | null
  /**
   * For the content guards: counts one verdict (`detector`: pii, secret, injection; `action`:
   * allow, flag, redact, block, …). A no-op when metrics are disabled, so guards call it freely.
   */
  guardVerdict (detector: string, action: string): void
}

/** Compiles the metrics at start-up: registry, bounded model labels, stages. */
export function buildMetrics (options: MetricsOptions): Metrics {
  const settings = options.config.metrics
  if (!settings.enabled) return { registry: null, stages: null, guardVerdict () {} }
  const registry = createMetricsRegistry({
    processMetrics: settings.process_metrics,
    ...(options.auditStatus === undefined ? {} : { auditStatus: options.auditStatus })
  })
  const modelLabel = createModelLabeler({
    exact: options.routes.exact.keys(),
    prefixes: options.routes.prefixes.map((p) => p.prefix)
  })
  return {
    registry,
    stages: createMetricsStages({ metrics: registry, modelLabel }),
    guardVerdict: (detector, action) => { registry.guardVerdict(detector, action) }
  }
}
