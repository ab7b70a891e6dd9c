import { join } from 'node:path'
import { createAuditChain } from './audit-chain.ts'
import type { AuditChain, AuditFields, AuditRecord, ChainHead, MemberGroups } from './audit-chain.ts'
import { signCheckpoint } from './audit-checkpoint.ts'
import type { AuditKeys } from './audit-keys.ts'
import { segmentName } from './audit-segments.ts'
import { canonicalJson } from './canonical-json.ts'
import { openDurableAppendFile } from './durable-append-file.ts'
import type { DurableAppendFile } from './durable-append-file.ts'
import { resumeAuditLog, syncDir } from './resume-audit-log.ts'
import type { ResumedAuditLog } from './resume-audit-log.ts'
import { AuditQueueFullError } from './audit-writer.ts'
import { nextBatch } from './audit-batch.ts'
import type { PendingLine } from './audit-batch.ts'
import type { AuditWriter, AuditWriterStatus } from './audit-writer.ts'

export interface AuditFileWriterOptions {
  readonly dir: string
  readonly keys: Pick<AuditKeys, 'macKey' | 'signingKey'>
  /** Records accepted but not yet written; beyond it `append` throws `AuditQueueFullError`. */
  readonly queueSize?: number
  /** `interval`: fsync every `fsyncIntervalMs`; `batch`: fsync after every write. */
  readonly fsync?: 'interval' | 'batch'
  readonly fsyncIntervalMs?: number
  readonly maxSegmentBytes?: number
  /** Also start a new segment when the current one is this old (null: by size only). */
  readonly maxSegmentAgeMs?: number | null
  /** Sign a checkpoint once this many records became durable since the last one ... */
  readonly checkpointEveryRecords?: number
  /** ... or this long after the last one, if any record became durable since. */
  readonly checkpointEveryMs?: number
  /** Wait between attempts after a failed write. */
  readonly retryMs?: number
  /** `interval` only: records wait this long to be written (one write per few ms, not per turn). */
  readonly writeDelayMs?: number
}

const defaults: Omit<WriterConfig, 'dir' | 'keys'> = {
  queueSize: 10_000,
  fsync: 'interval',
  fsyncIntervalMs: 1000,
  maxSegmentBytes: 64 * 1024 * 1024,
  maxSegmentAgeMs: null,
  checkpointEveryRecords: 1000,
  checkpointEveryMs: 60_000,
  retryMs: 1000,
  writeDelayMs: 10
}

/** Opens (or resumes) the log in `options.dir` and starts the background flush. */
export async function openAuditFileWriter (options: AuditFileWriterOptions): Promise<AuditWriter> {
  const config = { ...defaults, ...options }
  return new FileAuditWriter(config, await resumeAuditLog(config.dir))
}

type WriterConfig = Required<AuditFileWriterOptions>

class FileAuditWriter implements AuditWriter {
  readonly #config: WriterConfig
  readonly #resumed: ResumedAuditLog
  readonly #chain: AuditChain
  readonly #queue: PendingLine[] = []
  readonly #syncTimer: NodeJS.Timeout | null
  #segment: DurableAppendFile | null
  #segmentNumber: number
  #segmentOpenedAt = Date.now()
  #written: ChainHead
  #durable: ChainHead
  #checkpoint: { seq: number, at: number }
  #failure: Error | null = null
  #failures = 0
  #closed = false
  #filesClosed = false
  #flushScheduled = false
  #retryTimer: NodeJS.Timeout | null = null
  #lock: Promise<unknown> = Promise.resolve()

  constructor (config: WriterConfig, resumed: ResumedAuditLog) {
    this.#config = config
    this.#resumed = resumed
    this.#chain = createAuditChain(config.keys.macKey, resumed.head)
    this.#segment = resumed.segment
    this.#segmentNumber = resumed.segmentNumber
    this.#written = resumed.head
    this.#durable = resumed.head
    this.#checkpoint = { seq: resumed.checkpointSeq, at: Date.now() }
    this.#syncTimer = config.fsync === 'interval' ? setInterval(() => this.#background(), config.fsyncIntervalMs) : null
    this.#syncTimer?.unref()
  }

  append (fields: AuditFields, groups?: MemberGroups): AuditRecord {
    if (this.#closed) throw new Error('the audit writer is closed')
    if (this.#queue.length >= this.#config.queueSize) throw new AuditQueueFullError(this.#config.queueSize)
    const { record, line } = this.#chain.sealLine(fields, groups)
    this.#queue.push({ seq: record.seq, mac: record.mac, text: line + '\n' })
    this.#scheduleFlush()
    return record
  }

  pending (): number {
    return this.#queue.length
  }

  healthy (): boolean {
    return this.#failure === null
  }

  status (): AuditWriterStatus {
    return {
      healthy: this.#failure === null,
      pending: this.#queue.length,
      lastError: this.#failure?.message ?? null,
      writeFailures: this.#failures,
      writtenSeq: this.#written.seq,
      durableSeq: this.#durable.seq,
      checkpointSeq: this.#checkpoint.seq,
      segment: segmentName(this.#segmentNumber),
      recovered: this.#resumed.torn
    }
  }

  flush (): Promise<void> {
    return this.#guarded(async () => {
      await this.#writePending()
      await this.#syncAndCheckpoint(false)
    })
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer)
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    await this.#guarded(async () => {
      await this.#writePending()
      await this.#syncAndCheckpoint(true)
      if (this.#filesClosed) return
      await this.#segment?.close()
      this.#segment = null
      await this.#resumed.checkpoints.close()
      this.#filesClosed = true
    })
  }

  async #currentSegment (nextLineBytes: number): Promise<DurableAppendFile> {
    const { maxSegmentBytes, maxSegmentAgeMs } = this.#config
    const current = this.#segment
    if (current !== null && current.size() > 0) {
      const full = current.size() + nextLineBytes > maxSegmentBytes
      const old = maxSegmentAgeMs !== null && Date.now() - this.#segmentOpenedAt >= maxSegmentAgeMs
      if (full || old) {
        await this.#syncSegment()
        await current.close()
        this.#segment = null
      }
    }
    if (this.#segment !== null) return this.#segment
    // The next number is claimed only once its file exists, so a failed open is retried under the same name.
    const opened = await openDurableAppendFile(join(this.#config.dir, segmentName(this.#segmentNumber + 1)), true)
    await syncDir(this.#config.dir)
    this.#segment = opened.file
    this.#segmentNumber += 1
    this.#segmentOpenedAt = Date.now()
    return opened.file
  }

  /**
   * Writes the records queued when it starts. Those appended while a write is in flight wait for
   * the write their append scheduled (`#scheduleFlush`): looping until the queue is empty would
   * make a busy gateway write, and wake a libuv thread, after every completion instead of once
   * per `writeDelayMs` (measured: 6,086 writes in 600 ms instead of 7).
   */
  async #writePending (): Promise<void> {
    const queue = this.#queue
    let remaining = queue.length
    while (remaining > 0) {
      const target = await this.#currentSegment(Buffer.byteLength((queue[0] as PendingLine).text))
      const { count, data } = nextBatch(queue, remaining, this.#config.maxSegmentBytes - target.size())
      // One buffer and one write call per batch, whatever the number of records in it.
      await target.append(data)
      const last = queue[count - 1] as PendingLine
      queue.splice(0, count)
      remaining -= count
      this.#written = { seq: last.seq, mac: last.mac }
      if (this.#config.fsync === 'batch') await this.#syncSegment()
    }
  }

  async #syncSegment (): Promise<void> {
    if (this.#segment === null || this.#written.seq === this.#durable.seq) return
    await this.#segment.sync()
    this.#durable = this.#written
  }

  async #syncAndCheckpoint (force: boolean): Promise<void> {
    await this.#syncSegment()
    const durable = this.#durable
    const last = this.#checkpoint
    if (durable.seq === last.seq) return
    const due = durable.seq - last.seq >= this.#config.checkpointEveryRecords ||
      Date.now() - last.at >= this.#config.checkpointEveryMs
    if (!force && !due) return
    // Only durable records are checkpointed: a crash can never leave a checkpoint past the log's end.
    const signed = signCheckpoint(this.#config.keys.signingKey, { ...durable, time: new Date().toISOString() })
    await this.#resumed.checkpoints.append(Buffer.from(canonicalJson({ ...signed }) + '\n'))
    await this.#resumed.checkpoints.sync()
    this.#checkpoint = { seq: signed.seq, at: Date.now() }
  }

  /** Runs one operation at a time; a failure marks the writer unhealthy and schedules a retry. */
  #guarded (operation: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(async () => {
      try {
        await operation()
        this.#failure = null
      } catch (err) {
        this.#failure = err instanceof Error ? err : new Error(String(err))
        this.#failures += 1
        this.#scheduleRetry()
        throw this.#failure
      }
    })
    this.#lock = run.catch(() => {})
    return run
  }

  #background (): void {
    this.flush().catch(() => {})
  }

  #scheduleRetry (): void {
    if (this.#retryTimer !== null || this.#closed) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      this.#background()
    }, this.#config.retryMs)
    this.#retryTimer.unref()
  }

  #scheduleFlush (): void {
    if (this.#flushScheduled || this.#failure !== null) return
    this.#flushScheduled = true
    const write = (): void => {
      this.#guarded(async () => {
        // Cleared only once the previous write is done: records appended while a write is in
        // flight wait for the next one, so a busy gateway writes bigger batches, not more of them.
        this.#flushScheduled = false
        await this.#writePending()
        if (this.#config.fsync === 'batch') await this.#syncAndCheckpoint(false)
      }).catch(() => {})
    }
    const delay = this.#config.fsync === 'batch' ? 0 : this.#config.writeDelayMs
    if (delay <= 0) setImmediate(write)
    else setTimeout(write, delay).unref()
  }
}
