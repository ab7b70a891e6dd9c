import type { DatabaseSync } from 'node:sqlite'
import type { ClientRecord, ClientStore, SigningKeyRecord, SigningKeyStore } from '../store.ts'
import { clientColumns, clientToRow, rowToClient, rowToSigningKey, signingKeyColumns, signingKeyToRow } from '../oauth-rows.ts'
import { listPage } from './list-page.ts'

const marks = (columns: string): string => columns.split(',').map(() => '?').join(', ')

/** The ClientStore on node:sqlite. */
export function createSqliteClientStore (db: DatabaseSync): ClientStore {
  const selectOne = db.prepare(`SELECT ${clientColumns} FROM oauth_clients WHERE id = ?`)
  const getSync = (id: string): ClientRecord | null => {
    const row = selectOne.get(id)
    return row === undefined ? null : rowToClient(row)
  }
  return {
    async insert (record) {
      db.prepare(`INSERT INTO oauth_clients (${clientColumns}) VALUES (${marks(clientColumns)})`).run(...clientToRow(record))
    },
    async get (id) {
      return getSync(id)
    },
    async list (query) {
      return listPage(db, 'oauth_clients', clientColumns, rowToClient, query)
    },
    async setDisabled (id, at) {
      // Enabling clears the time; disabling keeps an earlier one.
      db.prepare('UPDATE oauth_clients SET disabled_at = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(disabled_at, ?) END WHERE id = ?')
        .run(at, at, id)
      return getSync(id)
    },
    async rotate (id, rotation) {
      db.prepare('UPDATE oauth_clients SET previous_secret_hash = secret_hash, previous_expires_at = ?, secret_hash = ?, ' +
        'rotated_at = ? WHERE id = ?').run(rotation.previousExpiresAt, rotation.secretHash, rotation.rotatedAt, id)
      return getSync(id)
    },
    async revokeTokens (id, at) {
      // Scalar MAX with COALESCE: a later revocation moves the cut-off forward, an earlier one never back.
      db.prepare('UPDATE oauth_clients SET tokens_revoked_before = MAX(COALESCE(tokens_revoked_before, ?), ?) WHERE id = ?').run(at, at, id)
      return getSync(id)
    },
    async delete (id) {
      return Number(db.prepare('DELETE FROM oauth_clients WHERE id = ?').run(id).changes) > 0
    }
  }
}

/** The SigningKeyStore on node:sqlite. */
export function createSqliteSigningKeyStore (db: DatabaseSync): SigningKeyStore {
  const selectOne = db.prepare(`SELECT ${signingKeyColumns} FROM signing_keys WHERE kid = ?`)
  return {
    async insert (record: SigningKeyRecord) {
      db.prepare(`INSERT INTO signing_keys (${signingKeyColumns}) VALUES (${marks(signingKeyColumns)})`).run(...signingKeyToRow(record))
    },
    async listPublished (now) {
      return db.prepare(`SELECT ${signingKeyColumns} FROM signing_keys WHERE retire_after IS NULL OR retire_after > ? ` +
        'ORDER BY created_at DESC, kid DESC').all(now).map(rowToSigningKey)
    },
    async retire (kid, at, retireAfter) {
      db.prepare('UPDATE signing_keys SET retired_at = ?, retire_after = ? WHERE kid = ? AND retired_at IS NULL').run(at, retireAfter, kid)
      const row = selectOne.get(kid)
      return row === undefined ? null : rowToSigningKey(row)
    }
  }
}
