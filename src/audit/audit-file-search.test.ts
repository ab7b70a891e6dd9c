import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditRecord } from './audit-chain.ts'
import { deriveAuditKeys } from './audit-keys.ts'
import { writeAuditLogFixture } from './audit-log-fixture.ts'
import { variedFields } from './audit-search-fixture.ts'
import { createFileAuditSearch } from './audit-file-search.ts'
import type { AuditSearchQuery, AuditSearchSource } from './audit-search.ts'
import { canonicalJson } from './canonical-json.ts'
import { tempAuditDir } from './audit-test-dirs.ts'

const keys = deriveAuditKeys(randomBytes(32))

async function log (count = 60): Promise<string> {
  const dir = tempAuditDir('portcullis-search-')
  await writeAuditLogFixture({ dir, keys, maxSegmentBytes: 20 * 520, checkpointEveryRecords: 10, queueSize: 10 }, count, variedFields)
  return dir
}

function storedLines (dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1))
}

async function all (source: AuditSearchSource, query: Omit<AuditSearchQuery, 'limit'>, limit: number): Promise<{ records: AuditRecord[], pages: number }> {
  const records: AuditRecord[] = []
  let after: number | undefined
  let pages = 0
  for (;;) {
    const page = await source.search({ ...query, limit, ...(after === undefined ? {} : { after }) })
    pages++
    records.push(...page.records)
    if (!page.hasMore) return { records, pages }
    assert.notEqual(page.next, null)
    after = page.next as number
  }
}

test('paging asc returns every record once, in chain order, exactly as stored; desc the reverse', async () => {
  const dir = await log()
  assert.ok(readdirSync(dir).filter((n) => n.startsWith('audit-')).length >= 3)
  const source = createFileAuditSearch({ dir })
  const lines = storedLines(dir)
  const asc = await all(source, { order: 'asc' }, 7)
  assert.deepEqual(asc.records.map((r) => canonicalJson(r)), lines)
  assert.equal(asc.pages, 9)
  const desc = await all(source, { order: 'desc' }, 7)
  assert.deepEqual(desc.records.map((r) => r.seq), lines.map((_, i) => 60 - i))
  const first = await source.search({ order: 'desc', limit: 3 })
  assert.deepEqual(first.records.map((r) => r.seq), [60, 59, 58])
  assert.equal(first.follow, 60)
})

test('filters: tenant, key, status, error code, ip, type and a time window, across segments and pages', async () => {
  const dir = await log()
  const source = createFileAuditSearch({ dir })
  const seqs = async (query: Omit<AuditSearchQuery, 'limit' | 'order'>): Promise<number[]> =>
    (await all(source, { order: 'asc', ...query }, 4)).records.map((r) => r.seq)
  const upTo60 = Array.from({ length: 60 }, (_, i) => i + 1)
  assert.deepEqual(await seqs({ tenant: 'acme' }), upTo60.filter((i) => i % 2 === 1))
  assert.deepEqual(await seqs({ tenant: 'acme', status: 429 }), [5, 15, 25, 35, 45, 55])
  assert.deepEqual(await seqs({ error: 'rate_limit_exceeded' }), upTo60.filter((i) => i % 5 === 0 && i % 10 !== 0))
  assert.deepEqual(await seqs({ apiKeyId: 'key_1', tenant: 'acme' }), upTo60.filter((i) => i % 10 !== 0 && i % 3 === 1 && i % 2 === 1))
  assert.deepEqual(await seqs({ type: 'admin' }), [10, 20, 30, 40, 50, 60])
  assert.deepEqual(await seqs({ ip: '198.51.100.1' }), [10, 20, 30, 40, 50, 60])
  // Record i is stamped 2025-01-01T00:00:00Z + i seconds.
  const t0 = Date.UTC(2025, 0, 1)
  assert.deepEqual(await seqs({ since: t0 + 15_000, until: t0 + 19_000 }), [15, 16, 17, 18])
  assert.deepEqual(await seqs({ tenant: 'nobody' }), [])
  assert.deepEqual(await seqs({ apiKeyId: 'acme' }), [], 'a value found in another field does not match')
})

test('a scan budget answers early with a cursor that continues the search', async () => {
  const dir = await log()
  const source = createFileAuditSearch({ dir, maxScanLines: 8 })
  const page = await source.search({ order: 'asc', type: 'admin', limit: 10 })
  assert.deepEqual(page.records.map((r) => r.seq), [])
  assert.equal(page.hasMore, true)
  assert.equal(page.next, 8)
  const { records, pages } = await all(source, { order: 'asc', type: 'admin' }, 10)
  assert.deepEqual(records.map((r) => r.seq), [10, 20, 30, 40, 50, 60])
  assert.ok(pages >= 8)
})

test('a line still being written is not returned; follow yields only newer records', async () => {
  const dir = await log(25)
  const source = createFileAuditSearch({ dir })
  const last = readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().at(-1) as string
  appendFileSync(join(dir, last), '{"seq":26,"tenant":"ac')
  const desc = await source.search({ order: 'desc', limit: 2 })
  assert.deepEqual(desc.records.map((r) => r.seq), [25, 24])
  const asc = await source.search({ order: 'asc', after: 20, limit: 100 })
  assert.deepEqual(asc.records.map((r) => r.seq), [21, 22, 23, 24, 25])
  assert.equal(asc.follow, 25)
  assert.deepEqual((await source.search({ order: 'asc', after: desc.follow, limit: 10 })).records, [])
  const missing = createFileAuditSearch({ dir: join(dir, 'nope') })
  assert.deepEqual(await missing.search({ order: 'desc', limit: 5 }), { records: [], hasMore: false, next: null, follow: 0 })
})

test('segments wholly outside since/until (widened by the slack) are not read', async () => {
  const dir = tempAuditDir('portcullis-search-')
  const hour = 3_600_000
  const t0 = Date.UTC(2025, 0, 1)
  // Record i is stamped i hours after t0; about 20 records a segment.
  await writeAuditLogFixture({ dir, keys, maxSegmentBytes: 20 * 520, queueSize: 10 }, 60, (i) => ({ ...variedFields(i), timestamp_utc: new Date(t0 + i * hour).toISOString() }))
  const names = readdirSync(dir).filter((n) => n.startsWith('audit-')).sort()
  // A line planted in the middle of the first segment, stamped inside the window: only a read of that segment finds it.
  const first = join(dir, names[0] as string)
  const lines = readFileSync(first, 'utf8').split('\n')
  lines.splice(3, 0, JSON.stringify({ seq: 0, tenant: 'planted', timestamp_utc: new Date(t0 + 55 * hour).toISOString() }))
  writeFileSync(first, lines.join('\n'))
  const query = { order: 'asc', since: t0 + 50 * hour, until: t0 + 58 * hour } as const
  const pruned = await all(createFileAuditSearch({ dir, timeSlackMs: hour }), query, 100)
  assert.deepEqual(pruned.records.map((r) => r.seq), [50, 51, 52, 53, 54, 55, 56, 57])
  const widened = await all(createFileAuditSearch({ dir, timeSlackMs: 100 * hour }), query, 100)
  assert.ok(widened.records.some((r) => r.tenant === 'planted'), 'with a wide slack the first segment is read')
  const desc = await all(createFileAuditSearch({ dir, timeSlackMs: hour }), { ...query, order: 'desc' }, 3)
  assert.deepEqual(desc.records.map((r) => r.seq), [57, 56, 55, 54, 53, 52, 51, 50])
})
