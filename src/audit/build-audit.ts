import { join } from 'node:path'
import type { AuditConfig, Config } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { AuditFields, AuditRecord, MemberGroups } from './audit-chain.ts'
import type { AuditKeys, AuditVerifyKeys } from './audit-keys.ts'
import type { AuditWriter } from './audit-writer.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { deriveAuditKeys } from './audit-keys.ts'
import { openAuditFileWriter, type AuditFileWriterOptions } from './audit-file-writer.ts'
import { openGeoLookup } from './geo-lookup.ts'
import { createRecordStage } from './record-stage.ts'
import { createMetadataStage } from './metadata-stage.ts'
import { disabledAudit } from './disabled-audit.ts'

export interface AuditOptions {
  /** Reads `data_dir` and the `audit` section. */
  readonly config: Readonly<Pick<Config, 'data_dir' | 'audit'>>
  /** The audit keys are derived from it (src/audit/audit-keys.ts); none is written to disk. */
  readonly masterKey: Buffer
  readonly log: Logger
}

/** Called with every sealed record (request and admin records alike). */
export type AuditListener = (record: AuditRecord) => void

/**
 * The audit log of a running gateway: the writer, the stages that feed it, and a fan-out of
 * sealed records to other sinks (a PostgreSQL mirror, metrics).
 */
export interface Audit {
  /**
   * False with `audit.enabled: false` (disabled-audit.ts): nothing is written, `append` throws,
   * and the composition root must leave out the evidence sink, the readiness check and search.
   */
  readonly enabled: boolean
  /** `<data_dir>/audit`: segments and checkpoints (docs/audit.md). */
  readonly dir: string
  readonly writer: AuditWriter
  /** The record stage: first in the pipeline (stage-order.ts). */
  readonly stage: Stage
  /** Validates `x-portcullis-metadata` into `ctx.metadata`; runs after authentication. */
  readonly metadataStage: Stage
  /** What `verifyAuditLog` needs (the chain MAC key and the checkpoint public key). */
  readonly verifyKeys: AuditVerifyKeys
  /**
   * Seals and queues a record that is not a proxy request (admin actions, OAuth events), then
   * tells the listeners. Throws `AuditQueueFullError` when the queue is full, or when closed:
   * the caller decides whether that refuses its action (it should, to fail closed).
   */
  append (fields: AuditFields): AuditRecord
  /**
   * Adds a listener called with each record right after it was sealed and queued, on the
   * request path: it must only enqueue (a bounded buffer of its own) and return. What it throws
   * is caught and logged, never reaches the request. Records it misses are still in the file.
   */
  onRecord (listener: AuditListener): void
  /** For /readyz: false while the log cannot be written, its queue is full, or after close. */
  ready (): { ok: boolean, detail?: string }
  /**
   * Waits (bounded, 5 s) for requests in flight to be recorded, then flushes, fsyncs and signs a
   * final checkpoint. Never rejects: a final flush that fails is logged with the records lost.
   */
  close (): Promise<void>
}

/** How long close() waits for requests still in the pipeline to reach the record stage. */
const settleTimeoutMs = 5_000
const listenerLogEveryMs = 10_000

/** Opens the audit log in `<data_dir>/audit` (resuming an existing chain) and builds its stages. */
export async function buildAudit (options: AuditOptions): Promise<Audit> {
  const { config, log } = options
  const settings = config.audit
  const keys = deriveAuditKeys(options.masterKey)
  const dir = join(config.data_dir, 'audit')
  if (!settings.enabled) return disabledAudit({ dir, keys, metadataMaxBytes: settings.metadata_max_bytes, log })
  const geo = settings.geoip_database === undefined ? null : await openGeo(settings.geoip_database)
  const writer = await openAuditFileWriter(writerOptions(dir, keys, settings))
  const recovered = writer.status().recovered
  if (recovered.length > 0) log.warn({ recovered }, 'audit log: cut off a torn final line left by a crash')
  const { append, listeners } = fanOut(writer, log)
  let closed = false
  const ready = (): { ok: boolean, detail?: string } => {
    if (closed) return { ok: false, detail: 'the audit log is closed' }
    if (!writer.healthy()) return { ok: false, detail: `the audit log cannot be written: ${writer.status().lastError ?? 'unknown error'}` }
    if (writer.pending() >= settings.queue_size) return { ok: false, detail: 'the audit queue is full' }
    return { ok: true }
  }
  const stage = createRecordStage({
    append,
    accepting: () => writer.healthy() && writer.pending() < settings.queue_size,
    onFailure: settings.on_failure,
    geo,
    log
  })
  let closing: Promise<void> | null = null
  return {
    enabled: true,
    dir,
    writer,
    stage,
    metadataStage: createMetadataStage({ maxBytes: settings.metadata_max_bytes }),
    verifyKeys: { macKey: keys.macKey, publicKey: keys.publicKey },
    append,
    onRecord (listener) { listeners.push(listener) },
    ready,
    close () {
      closing ??= (async () => {
        await stage.settled(settleTimeoutMs)
        closed = true
        // A failing disk must not stop the rest of the shutdown (store, Redis): say what is lost.
        await writer.close().catch((err: unknown) => {
          log.error({ err, unwritten_records: writer.status().pending }, 'the audit log could not be flushed at shutdown: the unwritten records are lost')
        })
      })()
      return closing
    }
  }
}

function writerOptions (dir: string, keys: AuditKeys, settings: AuditConfig): AuditFileWriterOptions {
  return {
    dir,
    keys,
    queueSize: settings.queue_size,
    fsync: settings.fsync,
    fsyncIntervalMs: settings.fsync_interval_ms,
    writeDelayMs: settings.write_delay_ms,
    maxSegmentBytes: settings.max_segment_mb * 1024 * 1024,
    maxSegmentAgeMs: settings.max_segment_age_hours === undefined ? null : settings.max_segment_age_hours * 3_600_000,
    checkpointEveryRecords: settings.checkpoint_every_records,
    checkpointEveryMs: settings.checkpoint_every_seconds * 1000
  }
}

/** Appends through the writer, then hands the sealed record to every listener, isolated from their failures. */
function fanOut (writer: AuditWriter, log: Logger): { append: (fields: AuditFields, groups?: MemberGroups) => AuditRecord, listeners: AuditListener[] } {
  const listeners: AuditListener[] = []
  let lastLog = -Infinity
  const append = (fields: AuditFields, groups?: MemberGroups): AuditRecord => {
    const record = writer.append(fields, groups)
    for (const listener of listeners) {
      try {
        listener(record)
      } catch (err) {
        const now = performance.now()
        if (now - lastLog < listenerLogEveryMs) continue
        lastLog = now
        log.error({ err }, 'an audit record listener failed (the record is in the audit log)')
      }
    }
    return record
  }
  return { append, listeners }
}

async function openGeo (path: string): Promise<GeoLookup> {
  try {
    return await openGeoLookup(path)
  } catch (err) {
    throw new Error(`audit.geoip_database: cannot open "${path}" as a MaxMind database: ${(err as Error).message}`)
  }
}
