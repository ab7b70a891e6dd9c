import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import type { KeyListQuery } from '../store.ts'

/**
 * One page of a table with `created_at` and `id`, newest first, optionally of one tenant.
 * Keyset paging on (created_at, id): rows inserted meanwhile never shift a page.
 */
export function listPage<T> (
  db: DatabaseSync, table: string, columns: string, toRecord: (row: Record<string, unknown>) => T, query: KeyListQuery
): { items: T[], hasMore: boolean } {
  const where: string[] = []
  const params: SQLInputValue[] = []
  if (query.tenant !== undefined && query.tenant !== null) {
    where.push('tenant = ?')
    params.push(query.tenant)
  }
  if (query.after !== undefined && query.after !== null) {
    // An unknown cursor makes the subquery NULL, the comparison NULL, and the page empty.
    where.push(`(created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = ?)`)
    params.push(query.after)
  }
  const sql = `SELECT ${columns} FROM ${table}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ` +
    'ORDER BY created_at DESC, id DESC LIMIT ?'
  const rows = db.prepare(sql).all(...params, query.limit + 1)
  return { items: rows.slice(0, query.limit).map(toRecord), hasMore: rows.length > query.limit }
}
