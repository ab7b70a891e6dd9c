import type { DatabaseSync } from 'node:sqlite'
import type { RevokedTokenStore } from '../store.ts'
import { revokedTokenColumns, rowToRevokedToken } from '../oauth-rows.ts'

/** The RevokedTokenStore on node:sqlite. */
export function createSqliteRevokedTokenStore (db: DatabaseSync): RevokedTokenStore {
  // A repeat keeps the later expiry, so the entry outlives every copy of the token it stands for;
  // the first revocation time is kept, like a key's revoked_at.
  const upsert = db.prepare(`INSERT INTO revoked_tokens (${revokedTokenColumns}) VALUES (?, ?, ?) ` +
    'ON CONFLICT (jti) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)')
  const active = db.prepare(`SELECT ${revokedTokenColumns} FROM revoked_tokens WHERE expires_at > ? ORDER BY expires_at, jti`)
  const purge = db.prepare('DELETE FROM revoked_tokens WHERE expires_at <= ?')
  return {
    async insert (token) {
      upsert.run(token.jti, token.expiresAt, token.revokedAt)
    },
    async listActive (now) {
      return active.all(now).map(rowToRevokedToken)
    },
    async purgeExpired (now) {
      return Number(purge.run(now).changes)
    }
  }
}
