import type { Endpoint, Logger, RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { AuditFields } from './audit-chain.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { canonicallyOrdered } from './canonical-json.ts'
import { redactCredentialShapes } from '../lib/credential-shapes.ts'

export interface RecordStageOptions {
  /** Seals and queues one record; throws when the writer cannot take it (queue full, closed). */
  readonly append: (fields: AuditFields) => void
  /** False while the writer fails or its queue is full. */
  readonly accepting: () => boolean
  /** `fail_closed`: refuse requests while records cannot be written; `fail_open`: serve and log. */
  readonly onFailure: 'fail_closed' | 'fail_open'
  readonly geo: GeoLookup | null
  readonly log: Logger
}

/** The record stage plus what shutdown needs to know about it. */
export interface RecordStage extends Stage {
  /** Resolves once every request that passed `onRequest` has been recorded (or after `timeoutMs`). */
  settled (timeoutMs: number): Promise<void>
}

const endpointPaths: Readonly<Record<Endpoint, string>> = {
  'chat.completions': '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  models: '/v1/models'
}

/** Longest user agent kept: enough to identify an SDK, not a channel for arbitrary data. */
export const maxUserAgentChars = 256
/**
 * Status recorded when the client went away before its response was complete (nginx's
 * convention); `error` is then `client_closed`, the one value that is not a catalogue code,
 * because no client ever sees it.
 */
export const clientClosedStatus = 499
const logEveryMs = 10_000

/**
 * First stage of the pipeline. `onRequest` refuses with 503 while the audit log cannot be
 * written (fail closed), so nothing is served that would not be recorded. `onComplete` runs
 * last, after settle, and appends one record per request whatever its outcome. It does no I/O:
 * the writer queues the record and a background flush writes it.
 */
export function createRecordStage (options: RecordStageOptions): RecordStage {
  const { append, accepting, onFailure, geo, log } = options
  const started = new WeakSet<RequestContext>()
  let inFlight = 0
  let waiters: Array<() => void> = []
  const failureLog = throttle(logEveryMs)
  const lostLog = throttle(logEveryMs)
  let lost = 0

  const finished = (ctx: RequestContext): void => {
    if (!started.delete(ctx)) return
    inFlight -= 1
    if (inFlight === 0 && waiters.length > 0) {
      for (const wake of waiters) wake()
      waiters = []
    }
  }

  return {
    name: 'record',
    onRequest (ctx) {
      started.add(ctx)
      inFlight += 1
      if (accepting()) return
      if (onFailure === 'fail_closed') {
        throw new GatewayError('service_unavailable', { message: 'The audit log cannot be written, so requests are refused until it can. Retry later.' })
      }
      if (failureLog()) {
        log.error({ audit_on_failure: 'fail_open' }, 'the audit log cannot be written: requests are served while their records wait in memory, and records are LOST when the queue fills or the process stops (audit.on_failure = fail_open)')
      }
    },
    onComplete (ctx) {
      try {
        append(requestRecord(ctx, geo))
      } catch (err) {
        lost += 1
        if (lostLog()) log.error({ err, lost_records: lost, request_id: ctx.requestId }, 'audit record lost: the audit log cannot take more records')
      } finally {
        finished(ctx)
      }
    },
    settled (timeoutMs) {
      if (inFlight === 0) return Promise.resolve()
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        timer.unref()
        waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }
}

/**
 * The record of one proxy request, with the fields fixed in ARCHITECTURE.md ("Audit record").
 * Built from the context only; `ip` is the client address after trusted proxies.
 */
export function requestRecord (ctx: RequestContext, geo: GeoLookup | null): AuditFields {
  const principal = ctx.principal
  const aborted = ctx.signal.aborted
  const userAgent = ctx.headers['user-agent']
  // Keys in canonical (sorted) order and nested values ordered too: the writer then serializes
  // the record natively in one pass (canonical-members.ts) instead of sorting and copying it.
  // Guard verdicts come from code the audit does not own: one that canonical JSON refuses
  // (undefined, a class instance) would cost the whole record, so it is recorded as null.
  return {
    api_key_id: principal?.keyId ?? null,
    client_id: principal?.clientId ?? null,
    cost_usd: ctx.costMicroUsd === null ? null : ctx.costMicroUsd / 1_000_000,
    endpoint: endpointPaths[ctx.endpoint],
    error: aborted ? 'client_closed' : ctx.error,
    geo: geo === null ? null : canonicallyOrdered(geo(ctx.clientIp)),
    guards: ctx.guards === null ? null : canonicallyOrdered(ctx.guards),
    ip: ctx.clientIp,
    latency_ms: millis(performance.now() - ctx.startedAt),
    metadata: ctx.metadata === null ? null : canonicallyOrdered(ctx.metadata),
    // Both are the caller's text: a credential pasted into them is masked (lib/credential-shapes.ts).
    model: ctx.model === null ? null : redactCredentialShapes(ctx.model),
    request_id: ctx.requestId,
    // Only when a guard policy asks (`guards.record_sample`): already masked and size-limited.
    ...(ctx.sample === null ? {} : { sample: { completion: ctx.sample.completion, prompt: ctx.sample.prompt } }),
    status: aborted ? clientClosedStatus : ctx.status,
    tenant: principal?.tenant ?? null,
    timestamp_utc: ctx.receivedAt.toISOString(),
    tokens_input: ctx.usage?.inputTokens ?? null,
    tokens_output: ctx.usage?.outputTokens ?? null,
    ttfb_ms: ctx.ttfbMs === null ? null : millis(ctx.ttfbMs),
    type: 'request',
    upstream: ctx.route?.upstream ?? null,
    user_agent: typeof userAgent === 'string' ? redactCredentialShapes(userAgent.slice(0, maxUserAgentChars)) : null
  }
}

/** Milliseconds with microsecond precision: enough to compare, short in the file. */
function millis (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** True at most once per `ms`: a failing disk must not turn into a flood of log lines. */
function throttle (ms: number): () => boolean {
  let last = -Infinity
  return () => {
    const now = performance.now()
    if (now - last < ms) return false
    last = now
    return true
  }
}
