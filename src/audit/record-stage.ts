import type { Logger, RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { AuditFields, MemberGroups } from './audit-chain.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { requestMemberGroups, requestRecord } from './request-record.ts'

export interface RecordStageOptions {
  /**
   * Seals and queues one record, its canonical members already written (`AuditChain.sealLine`);
   * throws when the writer cannot take it (queue full, closed).
   */
  readonly append: (fields: AuditFields, groups: MemberGroups) => void
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

const logEveryMs = 10_000

/**
 * First stage of the pipeline. `onRequest` refuses with 503 while the audit log cannot be
 * written (fail closed), so nothing is served that would not be recorded. `onComplete` runs
 * last, after settle, and appends one record per request whatever its outcome. It does no I/O:
 * the writer queues the record and a background flush writes it.
 */
export function createRecordStage (options: RecordStageOptions): RecordStage {
  const { append, accepting, onFailure, geo, log } = options
  // A strong set, emptied by `onComplete` (the pipeline runs it for every request, in a
  // `finally`): no weak-collection bookkeeping for the garbage collector on every request.
  const started = new Set<RequestContext>()
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
        const record = requestRecord(ctx, geo)
        append(record, requestMemberGroups(record))
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
