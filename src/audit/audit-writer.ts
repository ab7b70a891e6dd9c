import type { AuditFields, AuditRecord, MemberGroups } from './audit-chain.ts'
import type { TornTail } from './resume-audit-log.ts'

/** What an admin route or health check can show about the writer. */
export interface AuditWriterStatus {
  readonly healthy: boolean
  readonly pending: number
  readonly lastError: string | null
  /** Failed write or fsync attempts since start (each retry that fails counts), for metrics. */
  readonly writeFailures: number
  readonly writtenSeq: number
  readonly durableSeq: number
  readonly checkpointSeq: number
  readonly segment: string
  /** Torn final lines cut off when the writer started. */
  readonly recovered: readonly TornTail[]
}

/**
 * Where the record stage sends audit records. `append` never waits for the disk; durability
 * comes from the background flush (see docs/audit.md for what a crash can lose).
 */
export interface AuditWriter {
  /**
   * Seals the record and queues it; returns at once. Throws `AuditQueueFullError` when full.
   * `groups`: the fields' canonical members, when the caller wrote them (`AuditChain.sealLine`).
   */
  append (fields: AuditFields, groups?: MemberGroups): AuditRecord
  /** False while writes fail; the unwritten records are kept and retried. */
  healthy (): boolean
  /** Records queued and not yet written: `status().pending` without building a status, per request. */
  pending (): number
  status (): AuditWriterStatus
  /** Writes and fsyncs everything queued so far; rejects if the write fails. */
  flush (): Promise<void>
  /** Flushes, fsyncs, signs a final checkpoint and closes the files. */
  close (): Promise<void>
}

/** The queue is full: the caller should refuse the request (fail closed). */
export class AuditQueueFullError extends Error {
  readonly code = 'audit_queue_full'
  constructor (size: number) {
    super(`the audit queue is full (${size} records waiting to be written)`)
    this.name = 'AuditQueueFullError'
  }
}
