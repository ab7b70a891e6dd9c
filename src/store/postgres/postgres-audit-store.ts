import pg from 'pg'
import type { AuditRecord } from '../../audit/audit-chain.ts'
import type { AuditSearchPage, AuditSearchQuery, AuditSearchSource } from '../../audit/audit-search.ts'
import { recordErrorCode, recordTime } from '../../audit/audit-search.ts'
import { canonicalJson } from '../../audit/canonical-json.ts'
import { openMigratedPool } from './open-migrated-pool.ts'
import type { PostgresPoolSettings } from './postgres-pool-config.ts'
import { defaultSchema, schemaIdentifier } from './schema-identifier.ts'
import type { PostgresStoreLog } from './postgres-store.ts'

export interface PostgresAuditStoreOptions {
  readonly url: string
  /** The store's schema (the table is created by its migration 5). */
  readonly schema?: string
  readonly log?: PostgresStoreLog
  readonly pool?: PostgresPoolSettings
}

/**
 * The `audit_records` table: the searchable mirror of the audit log in cluster mode. It has a
 * pool of its own (two connections by default), so mirror writes never wait for, or hold, a
 * connection the request path needs.
 */
export interface PostgresAuditStore extends AuditSearchSource {
  /** Inserts sealed records; a record already there (same mac) is skipped, so a retry is harmless. */
  insert (records: readonly AuditRecord[]): Promise<void>
  close (): Promise<void>
}

const columns = ['mac', 'seq', 'type', 'ts', 'api_key_id', 'client_id', 'tenant', 'status', 'error', 'ip', 'record'] as const
const columnTypes = ['text', 'bigint', 'text', 'bigint', 'text', 'text', 'text', 'int', 'text', 'text', 'text'] as const

/** Connects, makes sure the schema is migrated, and returns the mirror table. */
export async function openPostgresAuditStore (options: PostgresAuditStoreOptions): Promise<PostgresAuditStore> {
  const schema = options.schema ?? defaultSchema
  const table = `${schemaIdentifier(schema)}.audit_records`
  const pool = await openMigratedPool(options.url, { maxConnections: 2, ...options.pool }, schema, options.log, ' of the audit mirror')
  let closing: Promise<void> | null = null
  return {
    kind: 'postgres',
    async insert (records) {
      if (records.length === 0) return
      const values = columns.map(() => [] as unknown[])
      for (const record of records) row(record).forEach((value, i) => values[i]?.push(value))
      const unnest = columnTypes.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
      await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${unnest}) ON CONFLICT (mac) DO NOTHING`, values)
    },
    search: (query) => searchTable(pool, table, query),
    async close () {
      closing ??= pool.end()
      await closing
    }
  }
}

/** The column values of one record, in `columns` order. */
function row (record: AuditRecord): unknown[] {
  const text = (value: unknown): string | null => typeof value === 'string' ? value : null
  const status = Number.isSafeInteger(record.status) && Math.abs(record.status as number) < 2 ** 31 ? record.status : null
  return [
    record.mac, record.seq, text(record.type), recordTime(record), text(record.api_key_id), text(record.client_id),
    text(record.tenant), status, recordErrorCode(record), text(record.ip), canonicalJson(record)
  ]
}

/** One page in arrival order (`id`), filtered on the indexed copies of the record's fields. */
async function searchTable (pool: pg.Pool, table: string, query: AuditSearchQuery): Promise<AuditSearchPage> {
  const where: string[] = []
  const params: unknown[] = []
  const add = (sql: string, value: unknown): void => {
    params.push(value)
    where.push(sql.replace('?', `$${params.length}`))
  }
  if (query.since !== undefined) add('ts >= ?', query.since)
  if (query.until !== undefined) add('ts < ?', query.until)
  if (query.apiKeyId !== undefined) add('api_key_id = ?', query.apiKeyId)
  if (query.clientId !== undefined) add('client_id = ?', query.clientId)
  if (query.tenant !== undefined) add('tenant = ?', query.tenant)
  if (query.status !== undefined) add('status = ?', query.status)
  if (query.error !== undefined) add('error = ?', query.error)
  if (query.ip !== undefined) add('ip = ?', query.ip)
  if (query.type !== undefined) add('type = ?', query.type)
  if (query.after !== undefined) add(query.order === 'asc' ? 'id > ?' : 'id < ?', query.after)
  params.push(query.limit + 1)
  const sql = `SELECT id, record FROM ${table}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ` +
    `ORDER BY id ${query.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $${params.length}`
  const [{ rows }, head] = await Promise.all([
    pool.query<{ id: string, record: string }>(sql, params),
    pool.query<{ id: string | null }>(`SELECT MAX(id) AS id FROM ${table}`)
  ])
  const page = rows.slice(0, query.limit)
  const hasMore = rows.length > query.limit
  const next = hasMore ? Number(page.at(-1)?.id) : null
  // The two queries ran side by side: a row may have arrived between them.
  const end = Math.max(Number(head.rows[0]?.id ?? 0), Number(page.at(-1)?.id ?? 0))
  return {
    records: page.map((r) => JSON.parse(r.record) as AuditRecord),
    hasMore,
    next,
    follow: hasMore && query.order === 'asc' ? (next ?? end) : end
  }
}
