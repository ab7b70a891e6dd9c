import type { DatabaseSync } from 'node:sqlite'
import type { KeyRecord, KeyRotation, KeyStore, KeyUsage } from '../store.ts'
import { inTransaction } from './transaction.ts'
import { listPage } from './list-page.ts'
import { keyColumns as columns, keyToRow, rowToKey } from '../key-row.ts'

/** The KeyStore on node:sqlite. Positional SQL only, so the PostgreSQL adapter reads the same. */
export function createSqliteKeyStore (db: DatabaseSync): KeyStore {
  const selectOne = db.prepare(`SELECT ${columns} FROM api_keys WHERE id = ?`)
  const getSync = (id: string): KeyRecord | null => {
    const row = selectOne.get(id)
    return row === undefined ? null : rowToKey(row)
  }
  return {
    async insert (record) {
      db.prepare(`INSERT INTO api_keys (${columns}) VALUES (${columns.split(',').map(() => '?').join(', ')})`).run(...keyToRow(record))
    },
    async get (id) {
      return getSync(id)
    },
    async list (query) {
      return listPage(db, 'api_keys', columns, rowToKey, query)
    },
    async revoke (id, at) {
      db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id)
      return getSync(id)
    },
    async rotate (id, rotation: KeyRotation) {
      // SET expressions read the row's old values, so the swap is one atomic statement.
      db.prepare('UPDATE api_keys SET previous_secret_hash = secret_hash, previous_expires_at = ?, secret_hash = ?, ' +
        'last_four = ?, rotated_at = ? WHERE id = ?')
        .run(rotation.previousExpiresAt, rotation.secretHash, rotation.lastFour, rotation.rotatedAt, id)
      return getSync(id)
    },
    async touchLastUsed (batch: readonly KeyUsage[]) {
      if (batch.length === 0) return
      const update = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)')
      inTransaction(db, () => {
        for (const { id, at } of batch) update.run(at, id, at)
      })
    },
    async countActiveWithScope (scope, now) {
      // Scopes are a JSON array of quoted strings, so `%"admin"%` cannot match `"admin:keys"`.
      const pattern = '%' + JSON.stringify(scope).replace(/[\\%_]/g, (c) => '\\' + c) + '%'
      const row = db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL ' +
        "AND (expires_at IS NULL OR expires_at > ?) AND scopes LIKE ? ESCAPE '\\'").get(now, pattern)
      return Number(row?.n ?? 0)
    }
  }
}
