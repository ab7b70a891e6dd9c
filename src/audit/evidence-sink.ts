import type { Logger } from '../pipeline/context.ts'
import type { AuditFields } from './audit-chain.ts'

/** The part of the audit composition (`Audit` of build-audit.ts) a sink needs. */
export interface EvidenceTarget {
  /** Seals, queues and fans out a record; throws when it cannot be queued. */
  append (fields: AuditFields): unknown
  /** False while the log cannot be written, its queue is full, or after close. */
  ready (): { readonly ok: boolean }
}

/**
 * Where the admin API and the OAuth endpoints send their evidence (`type: 'admin'` and
 * `type: 'oauth'` records). Narrower than `AuditWriter`, so those edges cannot flush, close or
 * read the chain, and a test can pass a plain collector.
 */
export interface EvidenceSink {
  /** Queues one record. Never throws: a record that cannot be queued is logged as an error. */
  record (fields: AuditFields): void
  /**
   * False when an action must be refused before it runs (503 `service_unavailable`): the audit
   * log cannot be written and the policy is `fail_closed`. Asked before every admin or OAuth
   * request, so that no change happens that the log cannot record.
   */
  accepting (): boolean
}

export interface EvidenceSinkOptions {
  /** `audit.on_failure`: `fail_closed` refuses actions while the writer is failing. */
  readonly onFailure: 'fail_closed' | 'fail_open'
  readonly log: Pick<Logger, 'error'>
}

/** An `EvidenceSink` over the chained audit log (`Audit.append`, so listeners see it too). */
export function createEvidenceSink (audit: EvidenceTarget, options: EvidenceSinkOptions): EvidenceSink {
  const failClosed = options.onFailure === 'fail_closed'
  return {
    record (fields) {
      try {
        audit.append(fields)
      } catch (err) {
        // Reached only if the writer failed between `accepting()` and now (or fail_open): the
        // action is done and cannot be undone, so the operator is told loudly instead.
        options.log.error({ err, audit_type: fields.type, action: fields.action }, 'an audit record could not be queued')
      }
    },
    accepting: () => !failClosed || audit.ready().ok
  }
}

/**
 * The sink of a gateway whose audit log is off (`audit.enabled: false`): admin and OAuth actions
 * are served and leave no record, as the operator chose (the start-up warning says so).
 */
export function discardingEvidenceSink (): EvidenceSink {
  return { record () {}, accepting: () => true }
}

/** A sink that keeps records in memory, for tests of the edges that record evidence. */
export function collectingEvidenceSink (): EvidenceSink & { readonly records: AuditFields[], healthy: boolean } {
  const sink = {
    records: [] as AuditFields[],
    healthy: true,
    record (fields: AuditFields) { sink.records.push(fields) },
    accepting: () => sink.healthy
  }
  return sink
}
