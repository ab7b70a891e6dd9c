import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { GatewayMetrics } from './metrics-registry.ts'
import { operationNames, type ModelLabeler } from './metrics-labels.ts'

export interface MetricsStageOptions {
  readonly metrics: GatewayMetrics
  /** Bounded model labels (metrics-labels.ts `createModelLabeler`). */
  readonly modelLabel: ModelLabeler
}

/**
 * Two stages sharing one per-request record: `observe` sits at the front of the pipeline (its
 * completion runs late, after settle, so it sees the final status, usage and cost) and
 * `upstreamTimer` sits right before forward, to mark when the upstream call starts.
 */
export interface MetricsStages {
  readonly observe: Stage
  readonly upstreamTimer: Stage
  /**
   * For the content guard stages (wired in stage-order.ts): counts one verdict, e.g.
   * `guardVerdict('pii', 'redact')`. Labels are bounded (metrics-registry.ts); never pass content.
   */
  readonly guardVerdict: (detector: string, action: string) => void
}

/** When the upstream call started and when its first and last stream events arrived (performance.now()). */
interface UpstreamTiming {
  readonly sentAt: number
  firstEventAt: number
  lastEventAt: number
}

/**
 * Status recorded when the client went away before its response was complete, as the audit
 * record does (nginx's convention), with `error="client_closed"`.
 */
const clientClosed = { status: '499', error: 'client_closed' } as const

/** Numbers 100–599 as strings, built once: the status label costs no conversion per request. */
const statusText: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i))

/**
 * Observes every proxy request once, at completion: plain additions to pre-resolved series
 * (metrics-instruments.ts), no I/O, no awaits, no strings built beyond what the labels need.
 * Only `ctx.route` is needed for the GenAI series; a request refused earlier counts in
 * `portcullis_requests_total` (and the limit refusals) only.
 */
export function createMetricsStages (options: MetricsStageOptions): MetricsStages {
  const { metrics, modelLabel } = options
  // Emptied by `onComplete`, which the pipeline runs for every request (in a `finally`).
  const timings = new Map<RequestContext, UpstreamTiming>()

  const upstreamTimer: Stage = {
    name: 'metrics-upstream-timer',
    onRequest (ctx) {
      timings.set(ctx, { sentAt: performance.now(), firstEventAt: 0, lastEventAt: 0 })
    }
  }

  const observe: Stage = {
    name: 'metrics',
    onChunk (ctx, event) {
      const timing = timings.get(ctx)
      if (timing !== undefined) {
        const now = performance.now()
        if (timing.firstEventAt === 0) timing.firstEventAt = now
        timing.lastEventAt = now
      }
      return event
    },
    onComplete (ctx) {
      const now = performance.now()
      const model = modelLabel(ctx.model)
      const aborted = ctx.signal.aborted
      const status = aborted ? clientClosed.status : (statusText[ctx.status] ?? 'other')
      const error = aborted ? clientClosed.error : (ctx.error ?? '')
      metrics.requests.at(ctx.endpoint, status, model, error).inc()
      if (ctx.limitRefusal !== null) metrics.limitRefusals.at(ctx.limitRefusal).inc()
      const timing = timings.get(ctx)
      if (timing === undefined) return
      timings.delete(ctx)
      if (ctx.route === null) return
      observeForwarded(ctx, timing, now, model, error)
    }
  }

  function observeForwarded (ctx: RequestContext, timing: UpstreamTiming, now: number, model: string, error: string): void {
    const route = ctx.route as NonNullable<RequestContext['route']>
    const operation = operationNames[ctx.endpoint]
    const provider = route.provider.type
    const upstreamMs = upstreamEnd(ctx, timing, now) - timing.sentAt
    const totalMs = now - ctx.startedAt
    metrics.serverDuration.at(operation, provider, model, error).observe(totalMs / 1000)
    metrics.upstreamDuration.at(operation, provider, model, error).observe(upstreamMs / 1000)
    metrics.overhead.at(ctx.endpoint).observe(Math.max(0, totalMs - upstreamMs) / 1000)
    if (timing.firstEventAt !== 0 && ctx.status < 400) {
      metrics.timeToFirstToken.at(operation, provider, model).observe((timing.firstEventAt - ctx.startedAt) / 1000)
    }
    const usage = ctx.usage
    if (usage !== null) {
      metrics.tokenUsage.at(operation, provider, model, 'input').observe(usage.inputTokens)
      if (ctx.endpoint !== 'embeddings') metrics.tokenUsage.at(operation, provider, model, 'output').observe(usage.outputTokens)
    }
    if (ctx.costMicroUsd !== null) metrics.cost.at(model).inc(ctx.costMicroUsd / 1_000_000)
    if (isUpstreamFailure(ctx)) metrics.upstreamErrors.at(route.upstream, ctx.error as string).inc()
  }

  return { observe, upstreamTimer, guardVerdict: (detector, action) => { metrics.guardVerdict(detector, action) } }
}

/**
 * When the upstream was done: a JSON answer is read whole before the forward stage records
 * `ttfbMs`; a stream ends with its last event; a call that failed ended just now.
 */
function upstreamEnd (ctx: RequestContext, timing: UpstreamTiming, now: number): number {
  const response = ctx.upstream
  if (response === null || ctx.ttfbMs === null) return now
  if (response.kind === 'stream' && timing.lastEventAt !== 0) return timing.lastEventAt
  return ctx.startedAt + ctx.ttfbMs
}

/**
 * The upstream failed: the forward call threw (the provider maps transport failures and error
 * statuses to catalogue codes), or a stream broke off. A client that went away is not an
 * upstream failure; a guard refusing an answer is not either.
 */
function isUpstreamFailure (ctx: RequestContext): boolean {
  if (ctx.error === null || ctx.signal.aborted) return false
  return ctx.upstream === null || ctx.error === 'upstream_error' || ctx.error === 'upstream_timeout'
}
