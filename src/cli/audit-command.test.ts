import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { auditAdminHarness, type AuditAdminHarness } from '../admin/audit-routes-fixture.ts'
import { openAuditFileWriter } from '../audit/audit-file-writer.ts'
import { variedFields } from '../audit/audit-search-fixture.ts'
import { runCommand as run, listeningAdminEnv } from './run-command-fixture.ts'
import { auditExportCommand, auditSearchCommand, auditTailCommand } from './audit-command.ts'
import { printRecords } from './audit-record-table.ts'

async function gateway (t: TestContext, count?: number): Promise<AuditAdminHarness & { env: NodeJS.ProcessEnv }> {
  const h = await auditAdminHarness(t, undefined, count)
  return { ...h, env: await listeningAdminEnv(h.app, h.operator) }
}

function storedLines (dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('audit-')).sort().flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1))
}

test('audit search: a table newest first, --json prints records as stored, the cursor continues, filters apply', async (t) => {
  const g = await gateway(t)
  const table = await run(auditSearchCommand, ['--limit', '3'], g.env)
  assert.equal(table.code, 0, table.err)
  const lines = table.out.split('\n')
  assert.match(lines[0] as string, /^SEQ\s+TIME\s+TYPE\s+TENANT\s+WHO\s+WHAT\s+STATUS\s+ERROR\/OUTCOME\s+IP$/)
  assert.match(lines[1] as string, /^60\s+2025-01-01T00:01:00\.000Z\s+admin\s+-\s+key_admin\s+keys\.create\s+-\s+success\s+198\.51\.100\.1$/)
  assert.match(lines[2] as string, /^59\s+\S+\s+request\s+acme\s+key_2\s+\/v1\/chat\/completions gpt-4o-mini\s+200\s+-\s+203\.0\.113\.7$/)
  assert.equal(lines.length, 4)
  const cursor = /--cursor (\S+)\)$/.exec(table.err)?.[1] as string
  const json = await run(auditSearchCommand, ['--limit', '3', '--cursor', cursor, '--json'], g.env)
  assert.deepEqual(json.out.split('\n'), storedLines(g.auditDir).reverse().slice(3, 6))
  const filtered = await run(auditSearchCommand, ['--tenant', 'acme', '--status', '429', '--order', 'asc', '--json'], g.env)
  assert.deepEqual(filtered.out.split('\n').map((l) => JSON.parse(l).seq), [5, 15, 25, 35, 45, 55])
  assert.equal((await run(auditSearchCommand, ['--tenant', 'nobody'], g.env)).out, 'No matching records.')
})

test('audit search: the admin key decides what is visible; bad input is exit 1 or 2', async (t) => {
  const g = await gateway(t)
  const acme = await run(auditSearchCommand, ['--limit', '1000', '--json'], { ...g.env, PORTCULLIS_ADMIN_KEY: g.acmeAuditor })
  assert.equal(acme.out.split('\n').length, 30)
  assert.ok(acme.out.split('\n').every((l) => JSON.parse(l).tenant === 'acme'))
  const other = await run(auditSearchCommand, ['--tenant', 'globex'], { ...g.env, PORTCULLIS_ADMIN_KEY: g.acmeAuditor })
  assert.deepEqual([other.code, /403 forbidden/.test(other.err)], [1, true])
  const weak = await run(auditSearchCommand, [], { ...g.env, PORTCULLIS_ADMIN_KEY: g.keysOnly })
  assert.match(weak.err, /the admin key needs the admin or admin:audit scope/)
  const bad = await run(auditSearchCommand, ['--since', 'yesterday'], g.env)
  assert.deepEqual([bad.code, /400 invalid_request: since must be Unix seconds/.test(bad.err)], [1, true])
  assert.equal((await run(auditSearchCommand, ['--since', '99x'], g.env)).code, 1)
  assert.equal((await run(auditSearchCommand, ['extra'], g.env)).code, 2)
  assert.equal((await run(auditSearchCommand, [], {})).code, 2, 'no admin key')
})

test('audit export: every record in chain order, exactly as stored, across pages, to a new 0600 file', async (t) => {
  const g = await gateway(t, 1100)
  const out = join(g.dataDir, 'export.jsonl')
  const res = await run(auditExportCommand, ['--out', out], g.env)
  assert.equal(res.code, 0, res.err)
  assert.equal(readFileSync(out, 'utf8'), storedLines(g.auditDir).map((l) => l + '\n').join(''))
  assert.equal(statSync(out).mode & 0o777, 0o600)
  assert.match(res.err, /^exported 1000 records…\nexported 1100 records to .*export\.jsonl$/)
  const again = await run(auditExportCommand, ['--out', out], g.env)
  assert.deepEqual([again.code, /exists; export never overwrites/.test(again.err)], [2, true])
  const t0 = Date.UTC(2025, 0, 1)
  const window = await run(auditExportCommand, ['--since', new Date(t0 + 100_000).toISOString(), '--until', String(t0 / 1000 + 103)], g.env)
  assert.deepEqual(window.out.split('\n').map((l) => JSON.parse(l).seq), [100, 101, 102])
})

test('audit tail shows the newest records oldest first; --follow prints records written later', async (t) => {
  const g = await gateway(t)
  const last = await run(auditTailCommand, ['-n', '3', '--json'], g.env)
  assert.deepEqual(last.out.split('\n').map((l) => JSON.parse(l).seq), [58, 59, 60])
  const following = run(auditTailCommand, ['-n', '1', '--follow', '--exit-after', '2', '--type', 'request', '--json'], g.env)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const writer = await openAuditFileWriter({ dir: g.auditDir, keys: g.auditKeys })
  for (let i = 61; i <= 64; i++) writer.append(variedFields(i))
  await writer.close()
  const res = await following
  assert.equal(res.code, 0, res.err)
  assert.deepEqual(res.out.split('\n').map((l) => JSON.parse(l).seq), [59, 61, 62])
})

test('--data-dir reads the local files without an admin key: search and export', async (t) => {
  const g = await gateway(t)
  const search = await run(auditSearchCommand, ['--data-dir', g.dataDir, '--json', '--limit', '2'], {})
  assert.equal(search.code, 0, search.err)
  assert.deepEqual(search.out.split('\n'), storedLines(g.auditDir).reverse().slice(0, 2))
  const exported = await run(auditExportCommand, ['--data-dir', g.dataDir, '--type', 'admin'], {})
  assert.deepEqual(exported.out.split('\n').map((l) => JSON.parse(l).seq), [10, 20, 30, 40, 50, 60])
  const missing = await run(auditSearchCommand, ['--data-dir', join(g.dataDir, 'nope')], {})
  assert.deepEqual([missing.code, /no audit log in/.test(missing.err)], [2, true])
})

test('the table escapes control characters from client-chosen fields (no terminal injection)', () => {
  const out: string[] = []
  const io = { out: (l: string) => { out.push(l) }, err () {}, env: {} }
  printRecords(io, [{ seq: 1, prev: '0'.repeat(64), mac: 'f'.repeat(64), type: 'request', model: '\u001b[2J\u001b[31mevil\r\nline', endpoint: '/v1/chat/completions' }], false, true)
  assert.equal(out.length, 2)
  assert.ok(!/[\u0000-\u001f]/.test(out.join('')), out.join(''))
  assert.match(out[1] as string, /\\u001b\[2J\\u001b\[31mevil\\u000d\\u000aline/)
})
