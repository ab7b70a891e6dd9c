import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { LeanCounter, LeanHistogram } from './metrics-instruments.ts'
import { boundedLabel } from './metrics-labels.ts'

/**
 * The gateway's metrics (docs/metrics.md lists each one). One registry per gateway instance,
 * never prom-client's global default: tests start several gateways in one process, and two
 * gateways must not count into each other's series.
 *
 * OpenTelemetry GenAI semantic conventions (semantic-conventions-genai, docs/gen-ai/
 * gen-ai-metrics.md, status Development) give the names and bucket boundaries where one exists,
 * translated as the OpenTelemetry → Prometheus compatibility rules do: dots become underscores,
 * the unit `s` adds `_seconds`, an annotation unit (`{token}`) adds nothing.
 */

/** What the audit writer reports (a subset of AuditWriterStatus, so this folder needs no audit import). */
export interface AuditGaugeSource {
  readonly pending: number
  readonly healthy: boolean
  /** Failed write attempts since start, when the writer counts them. */
  readonly writeFailures?: number
}

export interface MetricsRegistryOptions {
  /** Node.js process metrics (CPU, memory, event-loop lag, GC) under prom-client's standard names. */
  readonly processMetrics: boolean
  /** Read at scrape time; null while there is no audit log. */
  readonly auditStatus?: () => AuditGaugeSource | null
}

// gen_ai.client.token.usage: [ExplicitBucketBoundaries] of the convention.
const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
// gen_ai.server.request.duration, gen_ai.client.operation.duration: the convention's boundaries.
const durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
// gen_ai.server.time_to_first_token: the convention's boundaries.
const ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
// The gateway's own time is sub-millisecond when healthy; the upper buckets catch stalls.
const overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

/** Guard detectors and actions are named by code, not callers; still capped in case of a bug. */
const MAX_GUARD_LABELS = 64

export interface GatewayMetrics {
  readonly registry: Registry
  /** `portcullis_requests_total{endpoint,status,model,error}` */
  readonly requests: LeanCounter
  /** `gen_ai_server_request_duration_seconds{gen_ai_operation_name,gen_ai_provider_name,gen_ai_request_model,error_type}` */
  readonly serverDuration: LeanHistogram
  /** `gen_ai_client_operation_duration_seconds{…,upstream}`: time spent on the upstream. */
  readonly upstreamDuration: LeanHistogram
  /** `gen_ai_server_time_to_first_token_seconds{gen_ai_operation_name,gen_ai_provider_name,gen_ai_request_model}` */
  readonly timeToFirstToken: LeanHistogram
  /** `gen_ai_client_token_usage{gen_ai_operation_name,gen_ai_provider_name,gen_ai_request_model,gen_ai_token_type}` */
  readonly tokenUsage: LeanHistogram
  /** `portcullis_gateway_overhead_seconds{endpoint}` */
  readonly overhead: LeanHistogram
  /** `portcullis_cost_usd_total{model}` */
  readonly cost: LeanCounter
  /** `portcullis_limit_refusals_total{kind}` */
  readonly limitRefusals: LeanCounter
  /** `portcullis_upstream_errors_total{upstream,code}` */
  readonly upstreamErrors: LeanCounter
  /**
   * Counts one guard verdict: `detector` (`pii`, `secret`, `injection`, …) and `action` (what the
   * guard did: `allow`, `flag`, `redact`, `block`, …). Never pass matched content: labels are
   * capped at 64 distinct lowercase identifiers each, anything else becomes `other`.
   */
  guardVerdict (detector: string, action: string): void
  /** The text exposition (Prometheus format 0.0.4). */
  render (): Promise<string>
  readonly contentType: string
}

/** Builds the registry with every instrument registered, plus process and audit metrics. */
export function createMetricsRegistry (options: MetricsRegistryOptions): GatewayMetrics {
  const registry = new Registry()
  if (options.processMetrics) collectDefaultMetrics({ register: registry })
  const genAi = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model']
  const metrics = {
    requests: new LeanCounter({ name: 'portcullis_requests_total', help: 'Proxy requests by endpoint, HTTP status, model (configured names only) and error code', labelNames: ['endpoint', 'status', 'model', 'error'] }).registerIn(registry),
    serverDuration: new LeanHistogram({ name: 'gen_ai_server_request_duration_seconds', help: 'Forwarded GenAI requests: arrival to last byte sent, in seconds (OTel gen_ai.server.request.duration)', labelNames: [...genAi, 'error_type'], buckets: durationBuckets }).registerIn(registry),
    upstreamDuration: new LeanHistogram({ name: 'gen_ai_client_operation_duration_seconds', help: 'Time spent on the upstream call, request sent to last byte received, in seconds (OTel gen_ai.client.operation.duration)', labelNames: [...genAi, 'error_type'], buckets: durationBuckets }).registerIn(registry),
    timeToFirstToken: new LeanHistogram({ name: 'gen_ai_server_time_to_first_token_seconds', help: 'Streamed requests: arrival to the first upstream chunk, in seconds (OTel gen_ai.server.time_to_first_token)', labelNames: genAi, buckets: ttftBuckets }).registerIn(registry),
    tokenUsage: new LeanHistogram({ name: 'gen_ai_client_token_usage', help: 'Tokens per request, settled usage, by token type (OTel gen_ai.client.token.usage)', labelNames: [...genAi, 'gen_ai_token_type'], buckets: tokenBuckets }).registerIn(registry),
    overhead: new LeanHistogram({ name: 'portcullis_gateway_overhead_seconds', help: 'Time a forwarded request spent in the gateway itself (total minus upstream), in seconds', labelNames: ['endpoint'], buckets: overheadBuckets }).registerIn(registry),
    cost: new LeanCounter({ name: 'portcullis_cost_usd_total', help: 'Cost of settled requests in USD, by model (configured names only)', labelNames: ['model'] }).registerIn(registry),
    limitRefusals: new LeanCounter({ name: 'portcullis_limit_refusals_total', help: 'Requests refused by a gateway limit: kind = requests, tokens, concurrency (429 rate_limit_exceeded) or budget (429 budget_exceeded)', labelNames: ['kind'] }).registerIn(registry),
    upstreamErrors: new LeanCounter({ name: 'portcullis_upstream_errors_total', help: 'Failed upstream calls by upstream and error code (client disconnects excluded)', labelNames: ['upstream', 'code'] }).registerIn(registry)
  }
  const guardVerdicts = new LeanCounter({ name: 'portcullis_guard_verdicts_total', help: 'Content guard verdicts by detector and action', labelNames: ['detector', 'action'] }).registerIn(registry)
  registerAuditMetrics(registry, options.auditStatus)
  const seenDetectors = new Set<string>()
  const seenActions = new Set<string>()
  return {
    registry,
    ...metrics,
    guardVerdict (detector, action) {
      guardVerdicts.at(boundedLabel(seenDetectors, detector, MAX_GUARD_LABELS), boundedLabel(seenActions, action, MAX_GUARD_LABELS)).inc()
    },
    render: () => registry.metrics(),
    contentType: registry.contentType
  }
}

/** Sampled at scrape time from the writer's status: nothing on the request path. */
function registerAuditMetrics (registry: Registry, status: (() => AuditGaugeSource | null) | undefined): void {
  if (status === undefined) return
  new Gauge({
    name: 'portcullis_audit_queue_depth',
    help: 'Audit records waiting to be written',
    registers: [registry],
    collect () { this.set(status()?.pending ?? 0) }
  })
  new Gauge({
    name: 'portcullis_audit_writer_healthy',
    help: '1 while audit writes succeed, 0 while they fail (records are kept and retried)',
    registers: [registry],
    collect () { this.set(status()?.healthy === false ? 0 : 1) }
  })
  new Counter({
    name: 'portcullis_audit_write_failures_total',
    help: 'Failed audit write attempts since start',
    registers: [registry],
    collect () {
      this.reset()
      this.inc(status()?.writeFailures ?? 0)
    }
  })
}
