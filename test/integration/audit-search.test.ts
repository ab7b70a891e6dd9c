import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { canonicalJson } from '../../src/audit/canonical-json.ts'

// The real PostgreSQL, a schema of this file's own (dropped at the end).
const databaseUrl = process.env.PORTCULLIS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = 'pcl_audit_' + randomBytes(6).toString('hex')
// A cluster's instances share a master key; the first schema's signing keys are wrapped with another one.
const clusterSchema = 'pcl_audit_' + randomBytes(6).toString('hex')
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 })
after(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin.query(`DROP SCHEMA IF EXISTS "${clusterSchema}" CASCADE`)
  await admin.end()
})

async function chat (g: TestGateway, secret: string, model = 'mock-gpt'): Promise<string> {
  const res = await fetch(g.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })
  })
  await res.arrayBuffer()
  return res.headers.get('x-request-id') ?? ''
}

/** GET /admin/v1/audit until `accept` is satisfied (records reach the files or the mirror within about a second). */
async function searchUntil (g: TestGateway, query: string, accept: (data: Array<Record<string, unknown>>) => boolean, key?: string) {
  for (let i = 0; ; i++) {
    const res = await fetch(`${g.url}/admin/v1/audit${query}`, { headers: { authorization: `Bearer ${key ?? g.adminKey}` } })
    const body = await res.json() as { data: Array<Record<string, unknown>>, has_more: boolean }
    assert.equal(res.status, 200, JSON.stringify(body))
    if (accept(body.data) || i === 50) return body
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function fileLines (dataDir: string): string[] {
  const dir = join(dataDir, 'audit')
  return readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1))
}

for (const mode of ['files', 'postgres'] as const) {
  test(`${mode}: a proxy request is found by key and tenant, exactly as in the segment file; a tenant admin sees only its own`, async (t) => {
    const g = await startTestGateway({
      logLevel: 'warn',
      env: mode === 'postgres' ? { PORTCULLIS_DATABASE_URL: databaseUrl, PORTCULLIS_DATABASE_SCHEMA: schema } : {}
    })
    t.after(() => g.close())
    const acme = await g.createKey({ name: 'acme-app', scopes: ['chat'], tenant: 'acme' })
    const globex = await g.createKey({ name: 'globex-app', scopes: ['chat'], tenant: 'globex' })
    const auditor = await g.createKey({ name: 'acme-auditor', scopes: ['admin:audit'], tenant: 'acme' })
    const requestId = await chat(g, acme.secret)
    await chat(g, globex.secret)
    const found = await searchUntil(g, `?key=${acme.id}&type=request`, (data) => data.length === 1)
    assert.equal(found.data.length, 1)
    const record = found.data[0] as Record<string, unknown>
    assert.deepEqual([record.request_id, record.tenant, record.status, record.endpoint], [requestId, 'acme', 200, '/v1/chat/completions'])
    assert.ok(fileLines(g.dataDir).includes(canonicalJson(record as never)), 'the record as stored in the chain')
    const own = await searchUntil(g, '?type=request', (data) => data.length > 0, auditor.secret)
    assert.deepEqual(own.data.map((r) => r.request_id), [requestId])
    const other = await fetch(`${g.url}/admin/v1/audit?tenant=globex`, { headers: { authorization: `Bearer ${auditor.secret}` } })
    assert.equal(other.status, 403)
    // Canaries: no API key secret, admin key or master key in anything the search answers.
    const everything = await fetch(`${g.url}/admin/v1/audit?limit=1000`, { headers: { authorization: `Bearer ${g.adminKey}` } })
    const text = await everything.text()
    assert.ok(text.includes(acme.id))
    for (const secret of [acme.secret, globex.secret, auditor.secret, g.adminKey]) assert.ok(!text.includes(secret), 'a secret in the audit answer')
    if (mode === 'files') assert.ok(!text.includes(readFileSync(join(g.dataDir, 'master.key'), 'utf8').trim()))
    if (mode === 'postgres') {
      const { rows } = await admin.query<{ record: string }>(`SELECT record FROM "${schema}".audit_records WHERE api_key_id = $1`, [acme.id])
      assert.deepEqual(rows.map((r) => r.record), [canonicalJson(record as never)])
      assert.equal(g.gateway.adminRoutes.some((r) => r.url === '/admin/v1/audit' && r.scope === 'admin:audit'), true)
    }
  })
}

test('postgres: records of two instances (two data dirs) are searched together in the mirror', async (t) => {
  const env = { PORTCULLIS_DATABASE_URL: databaseUrl, PORTCULLIS_DATABASE_SCHEMA: clusterSchema, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') }
  const a = await startTestGateway({ logLevel: 'warn', env })
  t.after(() => a.close())
  const b = await startTestGateway({ logLevel: 'warn', env })
  t.after(() => b.close())
  const key = await a.createKey({ name: 'both', scopes: ['chat'], tenant: 'initech' })
  const ids = [await chat(a, key.secret), await chat(b, key.secret)]
  const found = await searchUntil(a, `?key=${key.id}&type=request&order=asc`, (data) => data.length === 2)
  assert.deepEqual(found.data.map((r) => r.request_id).sort(), [...ids].sort())
})
