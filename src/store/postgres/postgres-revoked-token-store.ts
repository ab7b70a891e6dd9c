import type { Pool } from 'pg'
import type { RevokedTokenStore } from '../store.ts'
import { revokedTokenColumns, rowToRevokedToken } from '../oauth-rows.ts'
import { schemaIdentifier } from './schema-identifier.ts'

/** The RevokedTokenStore on a pg pool, in `schema`. Same semantics as the SQLite adapter. */
export function createPostgresRevokedTokenStore (pool: Pool, schema: string): RevokedTokenStore {
  const table = `${schemaIdentifier(schema)}.revoked_tokens`
  return {
    async insert (token) {
      // A repeat keeps the later expiry, so the entry outlives every copy of the token it stands for;
      // the first revocation time is kept, like a key's revoked_at.
      await pool.query(`INSERT INTO ${table} AS t (${revokedTokenColumns}) VALUES ($1, $2, $3) ` +
        'ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(t.expires_at, EXCLUDED.expires_at)',
      [token.jti, token.expiresAt, token.revokedAt])
    },
    async listActive (now) {
      const { rows } = await pool.query<Record<string, unknown>>(
        `SELECT ${revokedTokenColumns} FROM ${table} WHERE expires_at > $1 ORDER BY expires_at, jti`, [now])
      return rows.map(rowToRevokedToken)
    },
    async purgeExpired (now) {
      const result = await pool.query(`DELETE FROM ${table} WHERE expires_at <= $1`, [now])
      return result.rowCount ?? 0
    }
  }
}
