import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { auditAdminHarness, type AuditAdminHarness } from './audit-routes-fixture.ts'
import { canonicalJson } from '../audit/canonical-json.ts'
import { encodeAuditCursor } from './audit-routes.ts'

async function get (h: AuditAdminHarness, query: string, key = h.operator) {
  const res = await h.app.inject({ method: 'GET', url: `/admin/v1/audit${query}`, headers: { authorization: `Bearer ${key}` } })
  return { status: res.statusCode, body: res.json(), headers: res.headers }
}

function storedLines (dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1))
}

test('GET /admin/v1/audit pages newest first with an opaque cursor; records come back exactly as stored', async (t) => {
  const h = await auditAdminHarness(t)
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await get(h, `?limit=25${cursor === null ? '' : `&cursor=${cursor}`}`)
    assert.equal(res.status, 200)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.body.object, 'list')
    seen.push(...res.body.data.map((r: object) => canonicalJson(r as never)))
    cursor = res.body.next_cursor
    assert.equal(res.body.has_more, cursor !== null)
    pages++
  } while (cursor !== null)
  assert.equal(pages, 3)
  assert.deepEqual(seen, storedLines(h.auditDir).reverse())
  const first = await get(h, '?limit=1')
  assert.equal(first.body.data[0].seq, 60)
  assert.match(first.body.data[0].mac, /^[0-9a-f]{64}$/)
  assert.equal((await get(h, '')).body.data.length, 60, 'the default page holds 100')
  // follow_cursor: an asc cursor after the newest record, so polling with it returns nothing yet.
  const follow = await get(h, `?cursor=${first.body.follow_cursor}`)
  assert.deepEqual([follow.status, follow.body.data, follow.body.has_more], [200, [], false])
  const asc = await get(h, '?order=asc&limit=3')
  assert.deepEqual(asc.body.data.map((r: { seq: number }) => r.seq), [1, 2, 3])
  const next = await get(h, `?cursor=${asc.body.next_cursor}&limit=2`)
  assert.deepEqual(next.body.data.map((r: { seq: number }) => r.seq), [4, 5])
})

test('filters: since/until (Unix seconds or ISO), key, tenant, status, error, ip, type', async (t) => {
  const h = await auditAdminHarness(t)
  const seqs = async (query: string): Promise<number[]> => {
    const res = await get(h, `?order=asc&${query}`)
    assert.equal(res.status, 200, JSON.stringify(res.body))
    return res.body.data.map((r: { seq: number }) => r.seq)
  }
  const t0 = Date.UTC(2025, 0, 1) / 1000
  assert.deepEqual(await seqs(`since=${t0 + 15}&until=${t0 + 19}`), [15, 16, 17, 18])
  assert.deepEqual(await seqs('since=2025-01-01T00:00:57Z'), [57, 58, 59, 60])
  assert.deepEqual(await seqs('tenant=acme&status=429'), [5, 15, 25, 35, 45, 55])
  assert.deepEqual(await seqs('error=rate_limit_exceeded&key=key_2'), [5, 35])
  assert.deepEqual(await seqs('type=admin&ip=198.51.100.1'), [10, 20, 30, 40, 50, 60])
  assert.deepEqual(await seqs('client=cli_nobody'), [])
})

test('bad input is 400 naming the parameter; limit is capped at 1000; a forged or foreign cursor is refused', async (t) => {
  const h = await auditAdminHarness(t)
  const bad = async (query: string, param: string): Promise<void> => {
    const res = await get(h, query)
    assert.equal(res.status, 400, query)
    assert.deepEqual([res.body.error.code, res.body.error.param], ['invalid_request', param], query)
  }
  await bad('?limit=1001', 'limit')
  await bad('?limit=0', 'limit')
  await bad('?since=yesterday', 'since')
  await bad('?status=abc', 'status')
  await bad('?order=random', 'order')
  await bad('?cursor=not-a-cursor', 'cursor')
  await bad(`?cursor=${encodeAuditCursor('postgres', 'desc', 5)}`, 'cursor')
  await bad(`?cursor=${encodeAuditCursor('files', 'asc', 5)}&order=desc`, 'order')
  await bad('?api_key_id=x', 'api_key_id')
  assert.equal((await get(h, '?limit=1000')).status, 200)
})

test('scope admin:audit is required; a tenant auditor sees only its tenant and cannot ask for another', async (t) => {
  const h = await auditAdminHarness(t)
  const weak = await get(h, '', h.keysOnly)
  assert.deepEqual([weak.status, weak.body.error.code], [403, 'insufficient_scope'])
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/audit' })).statusCode, 401)
  const own = await get(h, '?limit=1000', h.acmeAuditor)
  assert.equal(own.status, 200)
  assert.equal(own.body.data.length, 30)
  assert.ok(own.body.data.every((r: { tenant: string }) => r.tenant === 'acme'), 'no globex record and no untenanted admin record')
  const explicit = await get(h, '?tenant=acme&type=admin', h.acmeAuditor)
  assert.deepEqual(explicit.body.data, [])
  const other = await get(h, '?tenant=globex', h.acmeAuditor)
  assert.deepEqual([other.status, other.body.error.code], [403, 'forbidden'])
  // Paging with the operator's cursor still only yields acme records.
  const operatorPage = await get(h, '?limit=5')
  const paged = await get(h, `?cursor=${operatorPage.body.next_cursor}`, h.acmeAuditor)
  assert.ok(paged.body.data.length > 0 && paged.body.data.every((r: { tenant: string }) => r.tenant === 'acme'))
})
