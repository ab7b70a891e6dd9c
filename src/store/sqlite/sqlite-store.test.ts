import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { runStoreContract, sampleKey } from '../store-contract.ts'
import { sampleClient } from '../store-contract-oauth.ts'
import { runLimitsStoreContract } from '../store-contract-limits.ts'
import { v2Rows } from '../v2-rows-fixture.ts'
import type { Store } from '../store.ts'
import { openSqliteStore } from './sqlite-store.ts'
import { currentVersion, migrate, migrations } from './migrations.ts'

async function tempDir (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'portcullis-sqlite-'))
}

async function makeStore (): Promise<{ store: Store, dispose: () => Promise<void> }> {
  const dir = await tempDir()
  const store = await openSqliteStore({ dataDir: join(dir, 'data') })
  return {
    store,
    dispose: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

runStoreContract('sqlite', makeStore)
runLimitsStoreContract('sqlite', makeStore)

test('the data dir is 0700 and every database file in it 0600, including -wal and -shm', async (t) => {
  const root = await tempDir()
  t.after(() => rm(root, { recursive: true, force: true }))
  const dataDir = join(root, 'data')
  const store = await openSqliteStore({ dataDir })
  await store.keys.insert(sampleKey())
  const files = await readdir(dataDir)
  assert.ok(files.includes('portcullis.db'))
  assert.ok(files.includes('portcullis.db-wal'), 'WAL mode is on')
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
  for (const f of files) assert.equal((await stat(join(dataDir, f))).mode & 0o777, 0o600, f)
  await store.close()
})

test('reopening narrows a database file that was made readable by others', async (t) => {
  const dataDir = await tempDir()
  t.after(() => rm(dataDir, { recursive: true, force: true }))
  await (await openSqliteStore({ dataDir })).close()
  await chmod(join(dataDir, 'portcullis.db'), 0o644)
  await chmod(dataDir, 0o755)
  const store = await openSqliteStore({ dataDir })
  assert.equal((await stat(join(dataDir, 'portcullis.db'))).mode & 0o777, 0o600)
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
  await store.close()
})

test('migrations are recorded, applied once, and data survives a reopen', async (t) => {
  const dataDir = await tempDir()
  t.after(() => rm(dataDir, { recursive: true, force: true }))
  const key = sampleKey()
  const first = await openSqliteStore({ dataDir })
  await first.keys.insert(key)
  await first.close()
  const second = await openSqliteStore({ dataDir })
  assert.deepEqual(await second.keys.get(key.id), key)
  await second.close()
  const db = new DatabaseSync(join(dataDir, 'portcullis.db'))
  t.after(() => db.close())
  const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
  assert.deepEqual(rows.map((r) => ({ ...r })), migrations.map((m) => ({ version: m.version, name: m.name })))
  assert.equal(db.prepare("SELECT journal_mode AS m FROM pragma_journal_mode").get()?.m, 'wal')
})

test('a database newer than the code is refused, and a failing migration rolls back', () => {
  const db = new DatabaseSync(':memory:')
  migrate(db)
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(99, 'future', 0)
  assert.throws(() => migrate(db), /newer than this Portcullis/)
  db.close()
  const fresh = new DatabaseSync(':memory:')
  const latest = migrations.at(-1)?.version ?? 0
  const broken = [...migrations, { version: latest + 1, name: 'broken', sql: 'CREATE TABLE t2 (x INTEGER); SELECT nonsense FROM nowhere;' }]
  assert.throws(() => migrate(fresh, broken))
  assert.equal(currentVersion(fresh), latest)
  assert.equal(fresh.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 't2'").get()?.n, 0)
  fresh.close()
})

test('a version 2 database upgrades to the latest: existing keys and clients read back with no roles and no restrictions', async (t) => {
  const dataDir = await tempDir()
  t.after(() => rm(dataDir, { recursive: true, force: true }))
  const old = new DatabaseSync(join(dataDir, 'portcullis.db'))
  migrate(old, migrations.filter((m) => m.version <= 2))
  assert.equal(currentVersion(old), 2)
  const key = sampleKey({ tenant: 'acme', scopes: ['chat', 'admin'], models: ['gpt-4o-mini'] })
  const client = sampleClient({ scopes: ['embeddings'] })
  for (const row of v2Rows(key, client)) {
    old.prepare(`INSERT INTO ${row.table} (${row.columns.join(', ')}) VALUES (${row.columns.map(() => '?').join(', ')})`).run(...row.values)
  }
  old.close()
  const store = await openSqliteStore({ dataDir })
  t.after(() => store.close())
  const upgradedKey = await store.keys.get(key.id)
  assert.deepEqual(upgradedKey, { ...key, roles: [], allowedIps: null })
  assert.deepEqual(await store.clients.get(client.id), { ...client, roles: [], models: null, allowedIps: null, tokensRevokedBefore: null })
  assert.equal((await store.clients.revokeTokens(client.id, 42))?.tokensRevokedBefore, 42)
  await store.revokedTokens.insert({ jti: 'j1', expiresAt: 2, revokedAt: 1 })
  assert.equal((await store.revokedTokens.listActive(0)).length, 1)
  const db = new DatabaseSync(join(dataDir, 'portcullis.db'))
  t.after(() => db.close())
  assert.equal(currentVersion(db), migrations.at(-1)?.version)
})
