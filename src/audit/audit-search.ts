import type { AuditRecord } from './audit-chain.ts'

/**
 * What `GET /admin/v1/audit` and `portcullis audit search` filter on. Every field is optional;
 * set fields must all match (AND). Times are epoch milliseconds, `since` inclusive, `until`
 * exclusive, compared with the record's `timestamp_utc`.
 */
export interface AuditFilter {
  readonly since?: number
  readonly until?: number
  readonly apiKeyId?: string
  readonly clientId?: string
  readonly tenant?: string
  /** HTTP status of a request record. */
  readonly status?: number
  /** Error code: a record whose `error` is this code, or an object with this `code`. */
  readonly error?: string
  readonly ip?: string
  /** `request`, `admin`, `oauth`, `retention`. */
  readonly type?: string
}

/**
 * Records are returned in chain order (`asc`, oldest first: the order they were sealed, for
 * export and `tail --follow`) or reversed (`desc`, newest first, the default of every list).
 */
export type AuditOrder = 'asc' | 'desc'

export interface AuditSearchQuery extends AuditFilter {
  readonly order: AuditOrder
  /** A position from a previous page's `next`: only records strictly beyond it, in `order`. */
  readonly after?: number
  /** At least 1. */
  readonly limit: number
}

export interface AuditSearchPage {
  /** As stored, with `seq`, `prev` and `mac`, so that whoever receives them can verify them. */
  readonly records: AuditRecord[]
  readonly hasMore: boolean
  /** Where the next page starts (pass it back as `after` with the same order and filters). */
  readonly next: number | null
  /**
   * An `asc` position after everything this answer has seen: polling with it as `after` yields
   * only records sealed since (`portcullis audit tail --follow`).
   */
  readonly follow: number
}

/**
 * Where the admin API searches audit records: the segment files (embedded mode) or the
 * PostgreSQL mirror (cluster mode). Positions are opaque numbers of the source: a `seq` for the
 * files, a row id for the mirror.
 */
export interface AuditSearchSource {
  readonly kind: 'files' | 'postgres'
  search (query: AuditSearchQuery): Promise<AuditSearchPage>
}

/** Epoch ms of a record's `timestamp_utc`; null when it has none that parses. */
export function recordTime (record: AuditRecord): number | null {
  const value = record.timestamp_utc
  if (typeof value !== 'string') return null
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : null
}

/** The error code of a record: `error` itself when a string, `error.code` when an object. */
export function recordErrorCode (record: AuditRecord): string | null {
  const error = record.error
  if (typeof error === 'string') return error
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return null
  const code = (error as { readonly code?: unknown }).code
  return typeof code === 'string' ? code : null
}

/** True when the record satisfies every set field of the filter. */
export function matchesAuditFilter (record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.since !== undefined || filter.until !== undefined) {
    const time = recordTime(record)
    if (time === null) return false
    if (filter.since !== undefined && time < filter.since) return false
    if (filter.until !== undefined && time >= filter.until) return false
  }
  if (filter.apiKeyId !== undefined && record.api_key_id !== filter.apiKeyId) return false
  if (filter.clientId !== undefined && record.client_id !== filter.clientId) return false
  if (filter.tenant !== undefined && record.tenant !== filter.tenant) return false
  if (filter.status !== undefined && record.status !== filter.status) return false
  if (filter.error !== undefined && recordErrorCode(record) !== filter.error) return false
  if (filter.ip !== undefined && record.ip !== filter.ip) return false
  if (filter.type !== undefined && record.type !== filter.type) return false
  return true
}

/**
 * Strings a matching line must contain, as JSON writes them: a cheap test that skips parsing most
 * lines of a selective search. It may let a line through (the value in another field); the
 * parsed record is then checked with `matchesAuditFilter`. Never rejects a match.
 */
export function lineNeedles (filter: AuditFilter): string[] {
  const values = [filter.apiKeyId, filter.clientId, filter.tenant, filter.error, filter.ip, filter.type]
  return values.filter((v): v is string => v !== undefined && !/[\ud800-\udfff]/.test(v)).map((v) => JSON.stringify(v))
}
