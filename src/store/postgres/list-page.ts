import type { Pool } from 'pg'
import type { KeyListQuery } from '../store.ts'

/**
 * One page of a table with `created_at` and `id`, newest first, optionally of one tenant.
 * Keyset paging on (created_at, id): rows inserted meanwhile never shift a page.
 */
export async function listPage<T> (
  pool: Pool, table: string, columns: string, toRecord: (row: Record<string, unknown>) => T, query: KeyListQuery
): Promise<{ items: T[], hasMore: boolean }> {
  const where: string[] = []
  const params: unknown[] = []
  if (query.tenant !== undefined && query.tenant !== null) {
    params.push(query.tenant)
    where.push(`tenant = $${params.length}`)
  }
  if (query.after !== undefined && query.after !== null) {
    params.push(query.after)
    // An unknown cursor makes the subquery NULL, the comparison NULL, and the page empty.
    where.push(`(created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = $${params.length})`)
  }
  params.push(query.limit + 1)
  const sql = `SELECT ${columns} FROM ${table}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ` +
    `ORDER BY created_at DESC, id DESC LIMIT $${params.length}`
  const { rows } = await pool.query<Record<string, unknown>>(sql, params)
  return { items: rows.slice(0, query.limit).map(toRecord), hasMore: rows.length > query.limit }
}
