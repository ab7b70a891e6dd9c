import { DatabaseSync } from 'node:sqlite'
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs'
import { join } from 'node:path'
import type { Store } from '../store.ts'
import { ensureDataDir } from '../../crypto/master-key.ts'
import { migrate } from './migrations.ts'
import { createSqliteKeyStore } from './sqlite-key-store.ts'
import { createSqliteClientStore, createSqliteSigningKeyStore } from './sqlite-oauth-stores.ts'
import { createSqliteRevokedTokenStore } from './sqlite-revoked-token-store.ts'
import { createSqlitePolicyStore, createSqlitePriceStore, createSqliteUsageStore } from './sqlite-limits-stores.ts'

export interface SqliteStoreOptions {
  /** Created 0700 if missing; the database files inside are kept 0600. */
  readonly dataDir: string
  readonly fileName?: string
}

/** Opens (creating and migrating as needed) the SQLite store in the data directory. */
export async function openSqliteStore (options: SqliteStoreOptions): Promise<Store> {
  await ensureDataDir(options.dataDir)
  const path = join(options.dataDir, options.fileName ?? 'portcullis.db')
  // Create the file ourselves with 0600 so it is never briefly world-readable under the umask.
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
  const db = new DatabaseSync(path)
  let closed = false
  try {
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = NORMAL')
    db.exec('PRAGMA busy_timeout = 5000')
    migrate(db)
    restrictCompanionFiles(path)
  } catch (err) {
    db.close()
    throw err
  }
  return {
    kind: 'sqlite',
    keys: createSqliteKeyStore(db),
    clients: createSqliteClientStore(db),
    signingKeys: createSqliteSigningKeyStore(db),
    revokedTokens: createSqliteRevokedTokenStore(db),
    policies: createSqlitePolicyStore(db),
    prices: createSqlitePriceStore(db),
    usage: createSqliteUsageStore(db),
    async ping () {
      db.prepare('SELECT 1').get()
    },
    async close () {
      if (closed) return
      closed = true
      db.close()
    }
  }
}

/** SQLite creates -wal and -shm with the database's mode; narrowing them again costs nothing. */
function restrictCompanionFiles (path: string): void {
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600)
  }
}
