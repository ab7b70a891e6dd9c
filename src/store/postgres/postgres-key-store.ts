import type { Pool } from 'pg'
import type { KeyRecord, KeyRotation, KeyStore, KeyUsage } from '../store.ts'
import { schemaIdentifier } from './schema-identifier.ts'
import { listPage } from './list-page.ts'
import { keyColumns as columns, keyToRow, rowToKey } from '../key-row.ts'

type Row = Record<string, unknown>

const placeholders = columns.split(',').map((_, i) => `$${i + 1}`).join(', ')

/** The KeyStore on a pg pool, in `schema`. Same semantics as the SQLite adapter; bound parameters only. */
export function createPostgresKeyStore (pool: Pool, schema: string): KeyStore {
  const table = `${schemaIdentifier(schema)}.api_keys`
  const one = async (sql: string, params: unknown[]): Promise<KeyRecord | null> => {
    const { rows } = await pool.query<Row>(sql, params)
    return rows[0] === undefined ? null : rowToKey(rows[0])
  }
  return {
    async insert (record) {
      await pool.query(`INSERT INTO ${table} (${columns}) VALUES (${placeholders})`, keyToRow(record))
    },
    async get (id) {
      return one(`SELECT ${columns} FROM ${table} WHERE id = $1`, [id])
    },
    async list (query) {
      return listPage(pool, table, columns, rowToKey, query)
    },
    async revoke (id, at) {
      // COALESCE keeps the first revocation time; RETURNING makes it one atomic round trip.
      return one(`UPDATE ${table} SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${columns}`, [at, id])
    },
    async rotate (id, rotation: KeyRotation) {
      // SET expressions read the row's old values, so the swap is one atomic statement.
      return one(`UPDATE ${table} SET previous_secret_hash = secret_hash, previous_expires_at = $1, secret_hash = $2, ` +
        `last_four = $3, rotated_at = $4 WHERE id = $5 RETURNING ${columns}`,
      [rotation.previousExpiresAt, rotation.secretHash, rotation.lastFour, rotation.rotatedAt, id])
    },
    async touchLastUsed (batch: readonly KeyUsage[]) {
      if (batch.length === 0) return
      // One statement for the whole batch; GROUP BY folds repeated ids so each row is written once.
      await pool.query(`UPDATE ${table} AS k SET last_used_at = v.at ` +
        'FROM (SELECT id, MAX(at) AS at FROM unnest($1::text[], $2::bigint[]) AS u (id, at) GROUP BY id) AS v ' +
        'WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)',
      [batch.map((u) => u.id), batch.map((u) => u.at)])
    },
    async countActiveWithScope (scope, now) {
      // jsonb `?` matches whole array elements, so `admin` never matches `admin:keys` or a pattern.
      const { rows } = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE revoked_at IS NULL ` +
        'AND (expires_at IS NULL OR expires_at > $1) AND scopes::jsonb ? $2', [now, scope])
      return Number(rows[0]?.n ?? 0)
    }
  }
}
