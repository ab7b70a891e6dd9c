import type { Logger } from '../pipeline/context.ts'
import type { AuditRecord } from './audit-chain.ts'

/** Where mirrored records go (the PostgreSQL `audit_records` table). Must be idempotent per record. */
export interface AuditMirrorSink {
  insert (records: readonly AuditRecord[]): Promise<void>
}

export interface AuditMirrorOptions {
  readonly sink: AuditMirrorSink
  readonly log: Pick<Logger, 'error' | 'warn'>
  /** Records waiting for the sink; beyond it new records are dropped (and counted), never waited for. */
  readonly queueSize?: number
  readonly batchSize?: number
  /** A partial batch is written this long after its first record arrived. */
  readonly flushMs?: number
  /** Wait after a failed insert before the batch is tried again. */
  readonly retryMs?: number
  /** On close, how long the last records may take to reach the sink. */
  readonly closeTimeoutMs?: number
}

export interface AuditMirrorStats {
  readonly queued: number
  readonly mirrored: number
  /** Records that never reached the sink (full queue, or still queued at close). They are in the files. */
  readonly dropped: number
  readonly failures: number
  readonly lastError: string | null
}

/** A copy of the audit log kept off the request path. */
export interface AuditMirror {
  /** Queues a sealed record; O(1), never throws, never waits. Feed it from `Audit.onRecord`. */
  push (record: AuditRecord): void
  stats (): AuditMirrorStats
  /** Writes everything queued so far (tests, shutdown); rejects if the sink fails. */
  flush (): Promise<void>
  /** Stops the timers and makes one bounded last attempt to write the queue. */
  close (): Promise<void>
}

const logEveryMs = 10_000

/**
 * Batches sealed records into the sink on a timer, off the request path. The mirror is a
 * convenience for search, not the evidence (the chained segment files are): when the sink is
 * slow or down, the queue fills and new records are dropped with a counted, loud log line
 * rather than slowing or refusing a request. Failed batches are retried in order.
 */
export function createAuditMirror (options: AuditMirrorOptions): AuditMirror {
  const { sink, log } = options
  const queueSize = options.queueSize ?? 10_000
  const batchSize = options.batchSize ?? 500
  const flushMs = options.flushMs ?? 200
  const retryMs = options.retryMs ?? 1_000
  const queue: AuditRecord[] = []
  let mirrored = 0
  let dropped = 0
  let droppedSinceLog = 0
  let failures = 0
  let lastError: string | null = null
  let lastDropLog = -Infinity
  let lastFailureLog = -Infinity
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let closed = false

  const schedule = (ms: number): void => {
    if (timer !== null || closed) return
    timer = setTimeout(() => {
      timer = null
      drain().catch(() => {})
    }, ms)
    timer.unref()
  }

  /** Writes batches until the queue is empty; one drain at a time, so batches keep their order. */
  const drain = (): Promise<void> => {
    running ??= (async () => {
      try {
        while (queue.length > 0) {
          const batch = queue.slice(0, batchSize)
          await sink.insert(batch)
          queue.splice(0, batch.length)
          mirrored += batch.length
        }
        lastError = null
      } catch (err) {
        failures++
        lastError = (err as Error).message
        const now = performance.now()
        if (now - lastFailureLog >= logEveryMs) {
          lastFailureLog = now
          log.error({ err: { message: lastError }, queued: queue.length }, 'audit mirror: writing to PostgreSQL failed; retrying (the audit files are complete, search misses these records meanwhile)')
        }
        schedule(retryMs)
        throw err
      } finally {
        running = null
      }
    })()
    return running
  }

  const noteDrop = (count: number): void => {
    dropped += count
    droppedSinceLog += count
    const now = performance.now()
    if (now - lastDropLog >= logEveryMs) {
      lastDropLog = now
      log.error({ dropped: droppedSinceLog, dropped_total: dropped, queue_size: queueSize },
        'audit mirror: queue full, records DROPPED from the PostgreSQL mirror (they are in the audit files; search will not find them)')
      droppedSinceLog = 0
    }
  }

  return {
    push (record) {
      if (closed || queue.length >= queueSize) {
        noteDrop(1)
        return
      }
      queue.push(record)
      schedule(queue.length >= batchSize ? 0 : flushMs)
    },
    stats: () => ({ queued: queue.length, mirrored, dropped, failures, lastError }),
    async flush () {
      if (running !== null) await running.catch(() => {})
      await drain()
    },
    async close () {
      if (closed) return
      closed = true
      if (timer !== null) clearTimeout(timer)
      timer = null
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, options.closeTimeoutMs ?? 5_000, 'timeout').unref())
      const last = (async () => {
        if (running !== null) await running.catch(() => {})
        await drain()
      })().catch(() => {})
      await Promise.race([last, timeout])
      if (queue.length > 0) {
        const lost = queue.length
        queue.length = 0
        noteDrop(lost)
        log.error({ dropped: lost }, 'audit mirror: closed with records not yet mirrored (they are in the audit files)')
      }
    }
  }
}
