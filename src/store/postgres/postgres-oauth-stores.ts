import type { Pool } from 'pg'
import type { ClientRecord, ClientStore, SigningKeyRecord, SigningKeyStore } from '../store.ts'
import { clientColumns, clientToRow, rowToClient, rowToSigningKey, signingKeyColumns, signingKeyToRow } from '../oauth-rows.ts'
import { schemaIdentifier } from './schema-identifier.ts'
import { listPage } from './list-page.ts'

type Row = Record<string, unknown>
const placeholders = (columns: string): string => columns.split(',').map((_, i) => `$${i + 1}`).join(', ')

/** The ClientStore on a pg pool, in `schema`. Same semantics as the SQLite adapter. */
export function createPostgresClientStore (pool: Pool, schema: string): ClientStore {
  const table = `${schemaIdentifier(schema)}.oauth_clients`
  const one = async (sql: string, params: unknown[]): Promise<ClientRecord | null> => {
    const { rows } = await pool.query<Row>(sql, params)
    return rows[0] === undefined ? null : rowToClient(rows[0])
  }
  return {
    async insert (record) {
      await pool.query(`INSERT INTO ${table} (${clientColumns}) VALUES (${placeholders(clientColumns)})`, clientToRow(record))
    },
    async get (id) {
      return one(`SELECT ${clientColumns} FROM ${table} WHERE id = $1`, [id])
    },
    async list (query) {
      return listPage(pool, table, clientColumns, rowToClient, query)
    },
    async setDisabled (id, at) {
      // Enabling clears the time; disabling keeps an earlier one.
      return one(`UPDATE ${table} SET disabled_at = CASE WHEN $1::bigint IS NULL THEN NULL ELSE COALESCE(disabled_at, $1::bigint) END ` +
        `WHERE id = $2 RETURNING ${clientColumns}`, [at, id])
    },
    async rotate (id, rotation) {
      return one(`UPDATE ${table} SET previous_secret_hash = secret_hash, previous_expires_at = $1, secret_hash = $2, ` +
        `rotated_at = $3 WHERE id = $4 RETURNING ${clientColumns}`, [rotation.previousExpiresAt, rotation.secretHash, rotation.rotatedAt, id])
    },
    async revokeTokens (id, at) {
      // GREATEST ignores NULL: a later revocation moves the cut-off forward, an earlier one never back.
      return one(`UPDATE ${table} SET tokens_revoked_before = GREATEST(tokens_revoked_before, $1::bigint) WHERE id = $2 ` +
        `RETURNING ${clientColumns}`, [at, id])
    },
    async delete (id) {
      const result = await pool.query(`DELETE FROM ${table} WHERE id = $1`, [id])
      return (result.rowCount ?? 0) > 0
    }
  }
}

/** The SigningKeyStore on a pg pool, in `schema`. */
export function createPostgresSigningKeyStore (pool: Pool, schema: string): SigningKeyStore {
  const table = `${schemaIdentifier(schema)}.signing_keys`
  return {
    async insert (record: SigningKeyRecord) {
      await pool.query(`INSERT INTO ${table} (${signingKeyColumns}) VALUES (${placeholders(signingKeyColumns)})`, signingKeyToRow(record))
    },
    async listPublished (now) {
      const { rows } = await pool.query<Row>(`SELECT ${signingKeyColumns} FROM ${table} WHERE retire_after IS NULL OR retire_after > $1 ` +
        'ORDER BY created_at DESC, kid DESC', [now])
      return rows.map(rowToSigningKey)
    },
    async retire (kid, at, retireAfter) {
      // The first retirement is kept: COALESCE leaves an already retired key as it was.
      const { rows } = await pool.query<Row>(`UPDATE ${table} SET retire_after = CASE WHEN retired_at IS NULL THEN $2 ELSE retire_after END, ` +
        `retired_at = COALESCE(retired_at, $1) WHERE kid = $3 RETURNING ${signingKeyColumns}`, [at, retireAfter, kid])
      return rows[0] === undefined ? null : rowToSigningKey(rows[0])
    }
  }
}
