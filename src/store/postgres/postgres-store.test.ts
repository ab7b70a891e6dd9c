import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { runStoreContract, sampleKey } from '../store-contract.ts'
import { sampleClient } from '../store-contract-oauth.ts'
import { runLimitsStoreContract } from '../store-contract-limits.ts'
import type { Store } from '../store.ts'
import { v2Rows } from '../v2-rows-fixture.ts'
import { currentVersion, migrate, migrations } from './migrations.ts'
import { postgresPoolConfig } from './postgres-pool-config.ts'
import { openPostgresStore } from './postgres-store.ts'
import { startTcpProxy } from './tcp-proxy-fixture.ts'

// Tests run against a real server; the default matches the development environment.
const url = process.env.PORTCULLIS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const admin = new pg.Pool(postgresPoolConfig(url, { maxConnections: 2, connectionTimeoutMs: 3000 }))
try {
  await admin.query('SELECT 1')
} catch (err) {
  await admin.end()
  throw new Error(`PostgreSQL for the store tests is unreachable (${new URL(url).host}); start it or set PORTCULLIS_TEST_POSTGRES_URL`, { cause: err })
}
after(() => admin.end())

/** A schema name of its own for every store, dropped again by the returned function. */
function freshSchema (): { schema: string, drop: () => Promise<void> } {
  const schema = 'portcullis_test_' + randomBytes(6).toString('hex')
  return { schema, drop: async () => { await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) } }
}

async function tablesIn (schema: string): Promise<string[]> {
  const { rows } = await admin.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [schema])
  return rows.map((r) => r.tablename)
}

async function makeStore (): Promise<{ store: Store, dispose: () => Promise<void> }> {
  const { schema, drop } = freshSchema()
  const store = await openPostgresStore({ url, schema })
  return {
    store,
    dispose: async () => {
      await store.close()
      await drop()
    }
  }
}

runStoreContract('postgres', makeStore)
runLimitsStoreContract('postgres', makeStore)

/** Every table the migrations create, plus the bookkeeping table. */
const allTables = ['api_keys', 'audit_records', 'oauth_clients', 'policies', 'prices', 'revoked_tokens', 'schema_migrations', 'signing_keys', 'usage_hourly']

test('stores opening at once migrate once: no error, one set of tables, one row per migration', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore({ url, schema, pool: { maxConnections: 2 } })))
  t.after(() => Promise.all(stores.map((s) => s.close())))
  assert.deepEqual(await tablesIn(schema), allTables)
  const { rows } = await admin.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`)
  assert.deepEqual(rows, migrations.map((m) => ({ version: m.version, name: m.name })))
  const key = sampleKey()
  await stores[0]?.keys.insert(key)
  assert.deepEqual(await stores[3]?.keys.get(key.id), key)
})

test('data lives in the configured schema only and survives a reopen', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  const key = sampleKey()
  const first = await openPostgresStore({ url, schema })
  await first.keys.insert(key)
  await first.close()
  const second = await openPostgresStore({ url, schema })
  t.after(() => second.close())
  assert.deepEqual(await second.keys.get(key.id), key)
  const { rows } = await admin.query(`SELECT id FROM "${schema}".api_keys`)
  assert.deepEqual(rows, [{ id: key.id }])
  assert.equal((await admin.query("SELECT to_regclass('public.api_keys') AS t")).rows[0]?.t, null)
})

test('a database newer than the code is refused, and a failing migration rolls back', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  await migrate(admin, schema)
  await admin.query(`INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`)
  await assert.rejects(openPostgresStore({ url, schema }), /newer than this Portcullis/)
  const other = freshSchema()
  t.after(other.drop)
  const latest = migrations.at(-1)?.version ?? 0
  const broken = [...migrations, { version: latest + 1, name: 'broken', sql: 'CREATE TABLE t2 (x INTEGER); SELECT nonsense FROM nowhere;' }]
  await assert.rejects(migrate(admin, other.schema, broken), /nowhere/)
  assert.equal(await currentVersion(admin, other.schema), latest)
  assert.deepEqual(await tablesIn(other.schema), allTables)
})

test('a version 2 schema upgrades to the latest: existing keys and clients read back with no roles and no restrictions', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  await migrate(admin, schema, migrations.filter((m) => m.version <= 2))
  assert.equal(await currentVersion(admin, schema), 2)
  const key = sampleKey({ tenant: 'acme', scopes: ['chat', 'admin'], models: ['gpt-4o-mini'] })
  const client = sampleClient({ scopes: ['embeddings'] })
  for (const row of v2Rows(key, client)) {
    await admin.query(`INSERT INTO "${schema}".${row.table} (${row.columns.join(', ')}) ` +
      `VALUES (${row.columns.map((_, i) => `$${i + 1}`).join(', ')})`, [...row.values])
  }
  const store = await openPostgresStore({ url, schema })
  t.after(() => store.close())
  assert.equal(await currentVersion(admin, schema), migrations.at(-1)?.version)
  assert.deepEqual(await store.keys.get(key.id), { ...key, roles: [], allowedIps: null })
  assert.deepEqual(await store.clients.get(client.id), { ...client, roles: [], models: null, allowedIps: null, tokensRevokedBefore: null })
  assert.equal((await store.clients.revokeTokens(client.id, 42))?.tokensRevokedBefore, 42)
  await store.revokedTokens.insert({ jti: 'j1', expiresAt: 2, revokedAt: 1 })
  assert.equal((await store.revokedTokens.listActive(0)).length, 1)
})

test('an unreachable database is refused within the connection timeout', async () => {
  const refused = 'postgres://postgres@127.0.0.1:1/test'
  let started = Date.now()
  await assert.rejects(openPostgresStore({ url: refused, pool: { connectionTimeoutMs: 1000 } }), /ECONNREFUSED/)
  assert.ok(Date.now() - started < 1500, 'refused port')
  const silent = await startTcpProxy(null)
  try {
    started = Date.now()
    await assert.rejects(openPostgresStore({ url: `postgres://postgres@127.0.0.1:${silent.port}/test`, pool: { connectionTimeoutMs: 300 } }), /timeout/i)
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250 && elapsed < 1500, `silent server took ${elapsed} ms`)
  } finally {
    await silent.close()
  }
})

test('ping rejects within the connection timeout once the database stops answering, and recovers', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  const target = new URL(url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.after(() => proxy.close())
  const via = new URL(url)
  via.port = String(proxy.port)
  const warnings: object[] = []
  const store = await openPostgresStore({ url: via.href, schema, pool: { connectionTimeoutMs: 400 }, log: { warn: (obj) => warnings.push(obj) } })
  t.after(() => store.close())
  await store.ping()
  proxy.cut()
  // The pool notices its dropped idle connection and reports it to the log instead of throwing.
  for (let waited = 0; warnings.length === 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(warnings.length >= 1, 'the dropped idle connection was logged')
  const started = Date.now()
  await assert.rejects(store.ping(), /timeout/i)
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 350 && elapsed < 1500, `ping took ${elapsed} ms`)
  proxy.resume()
  await store.ping()
})

test('sslmode=verify-full never falls back to plain TCP on a server without TLS', async (t) => {
  const ssl = (await admin.query<{ ssl: string }>('SHOW ssl')).rows[0]?.ssl
  if (ssl !== 'off') return t.skip('this server offers TLS; the no-fallback check needs one that does not')
  const withTls = new URL(url)
  withTls.searchParams.set('sslmode', 'verify-full')
  await assert.rejects(openPostgresStore({ url: withTls.href, pool: { connectionTimeoutMs: 2000 } }), /does not support SSL/)
})

test('two instances (two pools) adding to the same new usage cell at once lose no increment', async (t) => {
  const { schema, drop } = freshSchema()
  t.after(drop)
  const [a, b] = await Promise.all([1, 2].map(() => openPostgresStore({ url, schema, pool: { maxConnections: 4 } })))
  t.after(() => Promise.all([a?.close(), b?.close()]))
  const hour = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000)
  const one = { hour, keyId: 'key_a', clientId: null, tenant: null, model: 'gpt-4o', requests: 1, inputTokens: 3, outputTokens: 5, costMicroUsd: 7 }
  const rounds = 10
  for (let round = 0; round < rounds; round++) {
    // Each round starts a fresh cell: both instances race to insert it.
    const cell = { ...one, hour: hour + round * 3_600_000 }
    await Promise.all([a, b, a, b].map((store) => store?.usage.add([cell, { ...cell, model: 'other' }])))
  }
  const [total] = await (a as Store).usage.query({ from: 0, to: Number.MAX_SAFE_INTEGER, groupBy: [], limit: 10 })
  assert.deepEqual(total, { hour: null, keyId: null, clientId: null, tenant: null, model: null, requests: 80, inputTokens: 240, outputTokens: 400, costMicroUsd: 560 })
})
