import type { Endpoint, Logger, RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { AuditFields } from './audit-chain.ts'
import type { JsonValue } from './canonical-json.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { canonicalJson } from './canonical-json.ts'

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
  return {
    type: 'request',
    timestamp_utc: ctx.receivedAt.toISOString(),
    request_id: ctx.requestId,
    api_key_id: principal?.keyId ?? null,
    client_id: principal?.clientId ?? null,
    tenant: principal?.tenant ?? null,
    endpoint: endpointPaths[ctx.endpoint],
    model: ctx.model,
    upstream: ctx.route?.upstream ?? null,
    latency_ms: millis(performance.now() - ctx.startedAt),
    ttfb_ms: ctx.ttfbMs === null ? null : millis(ctx.ttfbMs),
    tokens_input: ctx.usage?.inputTokens ?? null,
    tokens_output: ctx.usage?.outputTokens ?? null,
    cost_usd: ctx.costMicroUsd === null ? null : ctx.costMicroUsd / 1_000_000,
    ip: ctx.clientIp,
    geo: geo === null ? null : (geo(ctx.clientIp) as JsonValue | null),
    user_agent: typeof userAgent === 'string' ? userAgent.slice(0, maxUserAgentChars) : null,
    status: aborted ? clientClosedStatus : ctx.status,
    error: aborted ? 'client_closed' : ctx.error,
    guards: jsonOrNull(ctx.guards),
    metadata: ctx.metadata
  }
}

/** Milliseconds with microsecond precision: enough to compare, short in the file. */
function millis (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * Guard verdicts come from another issue's code; a value canonical JSON refuses (undefined, a
 * class instance) would cost the whole record, so it is recorded as null instead.
 */
function jsonOrNull (value: readonly unknown[] | null): JsonValue | null {
  if (value === null) return null
  try {
    canonicalJson(value as JsonValue)
    return value as JsonValue
  } catch {
    return null
  }
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
