import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import type { AuditRecord } from '../../audit/audit-chain.ts'
import { createAuditMirror } from '../../audit/audit-mirror.ts'
import { canonicalJson } from '../../audit/canonical-json.ts'
import { auditAdminHarness } from '../../admin/audit-routes-fixture.ts'
import { silentLog } from '../../pipeline/silent-log.ts'
import { openPostgresAuditStore, type PostgresAuditStore } from './postgres-audit-store.ts'
import { postgresPoolConfig } from './postgres-pool-config.ts'
import { startTcpProxy } from './tcp-proxy-fixture.ts'

const url = process.env.PORTCULLIS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const admin = new pg.Pool(postgresPoolConfig(url, { maxConnections: 2, connectionTimeoutMs: 3000 }))
after(() => admin.end())

async function freshStore (t: { after (fn: () => Promise<void>): void }): Promise<{ store: PostgresAuditStore, schema: string }> {
  const schema = 'portcullis_audit_' + randomBytes(6).toString('hex')
  const store = await openPostgresAuditStore({ url, schema })
  t.after(async () => {
    await store.close()
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  })
  return { store, schema }
}

function storedLines (dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1))
}

test('the mirror copies every sealed record to audit_records, byte for byte, once even when pushed twice', async (t) => {
  const { store, schema } = await freshStore(t)
  let mirror = createAuditMirror({ sink: store, log: silentLog, batchSize: 16 })
  const h = await auditAdminHarness(t, async (dir) => {
    const records = storedLines(dir).map((line) => JSON.parse(line) as AuditRecord)
    for (const record of records) mirror.push(record)
    await mirror.flush()
    assert.deepEqual(mirror.stats(), { queued: 0, mirrored: 60, dropped: 0, failures: 0, lastError: null })
    // A retried batch (same macs) adds nothing.
    mirror = createAuditMirror({ sink: store, log: silentLog })
    for (const record of records.slice(0, 5)) mirror.push(record)
    await mirror.close()
    return store
  })
  const { rows } = await admin.query<{ record: string }>(`SELECT record FROM "${schema}".audit_records ORDER BY id`)
  assert.deepEqual(rows.map((r) => r.record), storedLines(h.auditDir))

  const get = async (query: string, key = h.operator) => {
    const res = await h.app.inject({ method: 'GET', url: `/admin/v1/audit${query}`, headers: { authorization: `Bearer ${key}` } })
    assert.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const seqs = (body: { data: Array<{ seq: number }> }): number[] => body.data.map((r) => r.seq)
  const newest = await get('?limit=3')
  assert.deepEqual(seqs(newest), [60, 59, 58])
  assert.deepEqual(seqs(await get(`?limit=3&cursor=${newest.next_cursor}`)), [57, 56, 55])
  assert.deepEqual((await get('?limit=1000')).data.map((r: object) => canonicalJson(r as never)), storedLines(h.auditDir).reverse())
  const t0 = Date.UTC(2025, 0, 1) / 1000
  assert.deepEqual(seqs(await get(`?order=asc&since=${t0 + 15}&until=${t0 + 19}`)), [15, 16, 17, 18])
  assert.deepEqual(seqs(await get('?order=asc&tenant=acme&status=429')), [5, 15, 25, 35, 45, 55])
  assert.deepEqual(seqs(await get('?order=asc&error=rate_limit_exceeded&key=key_2')), [5, 35])
  assert.deepEqual(seqs(await get('?order=asc&type=admin&ip=198.51.100.1')), [10, 20, 30, 40, 50, 60])
  const acme = await get('?limit=1000', h.acmeAuditor)
  assert.equal(acme.data.length, 30)
  assert.ok(acme.data.every((r: { tenant: string }) => r.tenant === 'acme'))
  assert.deepEqual((await get(`?cursor=${newest.follow_cursor}`)).data, [])
  // A file cursor means nothing to the mirror.
  const files = await h.app.inject({ method: 'GET', url: `/admin/v1/audit?cursor=${Buffer.from('["files","desc",5]').toString('base64url')}`, headers: { authorization: `Bearer ${h.operator}` } })
  assert.equal(files.statusCode, 400)
})

test('PostgreSQL down: push never blocks or throws, the queue is bounded, drops are counted and logged, and it recovers', async (t) => {
  const target = new URL(url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.after(() => proxy.close())
  const { schema } = await freshStore(t)
  const proxied = new URL(url)
  proxied.host = `127.0.0.1:${proxy.port}`
  const store = await openPostgresAuditStore({ url: proxied.href, schema, pool: { connectionTimeoutMs: 300, statementTimeoutMs: 500 } })
  t.after(() => store.close())
  const errors: string[] = []
  const log = { error: (_obj: object, msg?: string) => { errors.push(msg ?? '') }, warn () {} }
  const mirror = createAuditMirror({ sink: store, log, queueSize: 10, batchSize: 5, flushMs: 10, retryMs: 50 })
  proxy.cut()
  const record = (seq: number): AuditRecord => ({ seq, prev: '0'.repeat(64), mac: randomBytes(32).toString('hex'), type: 'request', tenant: 'acme', timestamp_utc: new Date().toISOString() })
  const started = performance.now()
  for (let seq = 1; seq <= 25; seq++) mirror.push(record(seq))
  assert.ok(performance.now() - started < 50, 'push does no I/O')
  assert.deepEqual([mirror.stats().queued, mirror.stats().dropped], [10, 15])
  assert.ok(errors.some((m) => /queue full, records DROPPED/.test(m)), errors.join('\n'))
  await new Promise((resolve) => setTimeout(resolve, 800))
  assert.ok(mirror.stats().failures >= 1)
  assert.ok(errors.some((m) => /writing to PostgreSQL failed/.test(m)), errors.join('\n'))
  proxy.resume()
  for (let i = 0; i < 100 && mirror.stats().queued > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual([mirror.stats().queued, mirror.stats().mirrored, mirror.stats().lastError], [0, 10, null])
  const { rows } = await admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".audit_records`)
  assert.equal(Number(rows[0]?.n), 10)
  await mirror.close()
})
