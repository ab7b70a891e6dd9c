import { open, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../pipeline/context.ts'
import type { AuditFields } from './audit-chain.ts'
import type { AuditWriter } from './audit-writer.ts'
import type { DeletedSegment, RetentionFields } from './audit-retention-record.ts'
import { listAuditSegments } from './audit-segments.ts'
import { readLastLine } from './durable-append-file.ts'
import { syncDir } from './resume-audit-log.ts'

export interface AuditRetentionOptions {
  readonly dir: string
  /** Whole segments whose newest record is older than this many days are deleted. */
  readonly retentionDays: number
  /** Seals and queues the retention record (`Audit.append`, so listeners see it too). */
  readonly append: (fields: AuditFields) => unknown
  /** `flush` makes the retention record durable before any file goes; `status` names the current segment. */
  readonly writer: Pick<AuditWriter, 'flush' | 'status'>
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

export interface RetentionResult {
  /** Segment names deleted, oldest first; empty when nothing was old enough. */
  readonly deleted: readonly string[]
  readonly record: RetentionFields | null
}

const dayMs = 86_400_000

/**
 * Deletes the oldest whole segments whose newest record is older than the retention, never the
 * segment being written, and only a leading run of them, so the log left is one unbroken piece
 * of the chain. The `type: 'retention'` record that names them is appended and made durable
 * first: a crash half-way leaves a log that still verifies (docs/audit.md, "Retention").
 */
export async function applyAuditRetention (options: AuditRetentionOptions): Promise<RetentionResult> {
  const now = options.now ?? Date.now
  const cutoff = now() - options.retentionDays * dayMs
  const current = options.writer.status().segment
  const old: DeletedSegment[] = []
  for (const segment of await listAuditSegments(options.dir)) {
    if (segment.name === current) break
    const end = await segmentEnd(join(options.dir, segment.name))
    if (end === null || end.newest >= cutoff) break
    old.push({ name: segment.name, last_seq: end.seq, last_mac: end.mac })
  }
  const last = old.at(-1)
  if (last === undefined) return { deleted: [], record: null }
  const record: RetentionFields = {
    type: 'retention',
    timestamp_utc: new Date(now()).toISOString(),
    retention_days: options.retentionDays,
    first_seq: await firstSeq(join(options.dir, (old[0] as DeletedSegment).name)),
    last_seq: last.last_seq,
    last_mac: last.last_mac,
    segments: old
  }
  options.append(record as unknown as AuditFields)
  await options.writer.flush()
  // Oldest first: a deletion cut short leaves a shorter leading gap that the record still names.
  for (const segment of old) await unlink(join(options.dir, segment.name))
  await syncDir(options.dir)
  return { deleted: old.map((segment) => segment.name), record }
}

export interface RetentionJob {
  /** Runs once now, or joins the run in progress; null when it failed (and was logged). */
  run (): Promise<RetentionResult | null>
  /** Stops the timer and waits for a run in progress, so the writer can be closed after. */
  stop (): Promise<void>
}

/** Runs `applyAuditRetention` at start and every `intervalMs` (default an hour), logging failures. */
export function startAuditRetention (options: AuditRetentionOptions & { readonly intervalMs?: number, readonly log: Pick<Logger, 'info' | 'error'> }): RetentionJob {
  let running: Promise<RetentionResult | null> | null = null
  const run = (): Promise<RetentionResult | null> => {
    running ??= applyAuditRetention(options)
      .then((result) => {
        if (result.deleted.length > 0) options.log.info({ deleted: result.deleted, last_seq: result.record?.last_seq }, 'audit retention: deleted old segments')
        return result
      })
      .catch((err: unknown) => {
        options.log.error({ err }, 'audit retention failed; retrying at the next run')
        return null
      })
      .finally(() => { running = null })
    return running
  }
  const timer = setInterval(() => { void run() }, options.intervalMs ?? 3_600_000)
  timer.unref()
  void run()
  return {
    run,
    async stop () {
      clearInterval(timer)
      await running
    }
  }
}

interface SegmentEnd {
  readonly seq: number
  readonly mac: string
  /** Time of the newest record (epoch ms): its `timestamp_utc`, or the file's mtime without one. */
  readonly newest: number
}

async function segmentEnd (path: string): Promise<SegmentEnd | null> {
  const line = await readLastLine(path)
  if (line === null) return null
  const { seq, mac, timestamp_utc: time } = JSON.parse(line) as Record<string, unknown>
  if (!Number.isSafeInteger(seq) || typeof mac !== 'string') return null
  const stamped = typeof time === 'string' ? Date.parse(time) : Number.NaN
  const newest = Number.isFinite(stamped) ? stamped : (await stat(path)).mtimeMs
  return { seq: seq as number, mac, newest }
}

/** The seq of a segment's first record, read from its first line only. */
async function firstSeq (path: string): Promise<number> {
  const handle = await open(path, 'r')
  try {
    let head = Buffer.alloc(0)
    const chunk = Buffer.alloc(64 * 1024)
    while (!head.includes(0x0a)) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, head.length)
      if (bytesRead === 0) break
      head = Buffer.concat([head, chunk.subarray(0, bytesRead)])
    }
    const line = head.subarray(0, Math.max(0, head.indexOf(0x0a))).toString('utf8')
    let seq: unknown
    try {
      seq = (JSON.parse(line) as { seq?: unknown }).seq
    } catch {}
    if (!Number.isSafeInteger(seq)) throw new Error(`audit retention: the first line of ${path} is not a record`)
    return seq as number
  } finally {
    await handle.close()
  }
}
