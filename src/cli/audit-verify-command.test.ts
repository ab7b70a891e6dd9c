import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveAuditKeys } from '../audit/audit-keys.ts'
import { writeAuditLogFixture } from '../audit/audit-log-fixture.ts'
import { runCommand as run } from './run-command-fixture.ts'
import { runCli } from './cli.ts'
import { auditCheckpointsCommand, auditVerifyCommand } from './audit-verify-command.ts'

interface LogDir {
  readonly dataDir: string
  readonly auditDir: string
  readonly master: string
  segments (): string[]
  lines (segment: string): string[]
  write (segment: string, lines: string[]): void
}

/** A data dir with master.key and a real 60-record log over several segments (about 20 a segment). */
async function dataDir (t: TestContext): Promise<LogDir> {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-verify-cli-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const master = randomBytes(32).toString('base64')
  writeFileSync(join(root, 'master.key'), master + '\n', { mode: 0o600 })
  const auditDir = join(root, 'audit')
  await writeAuditLogFixture({ dir: auditDir, keys: deriveAuditKeys(Buffer.from(master, 'base64')), maxSegmentBytes: 20 * 520, checkpointEveryRecords: 10, queueSize: 10 }, 60)
  return {
    dataDir: root,
    auditDir,
    master,
    segments: () => readdirSync(auditDir).filter((n) => n.startsWith('audit-')).sort(),
    lines: (segment) => readFileSync(join(auditDir, segment), 'utf8').split('\n').slice(0, -1),
    write: (segment, lines) => { writeFileSync(join(auditDir, segment), lines.map((l) => l + '\n').join('')) }
  }
}

const seqOf = (line: string | undefined): number => (JSON.parse(line ?? '') as { seq: number }).seq

async function verify (d: LogDir, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return await run(auditVerifyCommand, ['--data-dir', d.dataDir, ...extra], env)
}

test('an intact log: exit 0, the count, the last seq, the checkpoints and the speed', async (t) => {
  const d = await dataDir(t)
  const res = await verify(d)
  assert.equal(res.code, 0, res.err)
  assert.match(res.out, /^OK: 60 records \(last seq 60\), [1-9]\d* signed checkpoints, in \d+\.\d\d s \([\d,]+ records\/s\)$/)
  assert.match(res.err, /^Verifying .*audit: \d segments, 0\.0 MiB…$/)
  const json = JSON.parse((await verify(d, ['--json'])).out)
  assert.deepEqual([json.ok, json.records, json.first_bad, json.torn_bytes], [true, 60, null, 0])
  // PORTCULLIS_MASTER_KEY is used as `start` uses it: here without a master.key file.
  rmSync(join(d.dataDir, 'master.key'))
  assert.equal((await verify(d, [], { PORTCULLIS_MASTER_KEY: d.master })).code, 0)
})

test('an edited record is named by segment, line and seq: exit 1', async (t) => {
  const d = await dataDir(t)
  const segment = d.segments()[1] as string
  const lines = d.lines(segment)
  lines[4] = (lines[4] as string).replace('"status":200', '"status":201')
  d.write(segment, lines)
  const res = await verify(d)
  assert.equal(res.code, 1)
  assert.equal(res.out.split('\n')[0], `TAMPERED: the first bad record is in ${segment}, line 5, seq ${seqOf(lines[4])}: mac does not match: the record was altered or forged`)
  assert.match(res.out, new RegExp(`^${seqOf(lines[4]) - 1} records verified before it \\(last good seq ${seqOf(lines[4]) - 1}\\)`, 'm'))
})

test('a deleted, an inserted and two reordered records are each named: exit 1', async (t) => {
  const cases: Array<[string, (lines: string[]) => string[], RegExp]> = [
    ['deleted', (l) => [...l.slice(0, 3), ...l.slice(4)], /line 4, seq (\d+): seq \d+ where \1 was expected: records are missing or out of order$/],
    ['inserted', (l) => [...l.slice(0, 3), l[1] as string, ...l.slice(3)], /line 4, seq (\d+): seq \d+ where \1 was expected: a record is repeated, inserted or out of order$/],
    ['reordered', (l) => [...l.slice(0, 3), l[4] as string, l[3] as string, ...l.slice(5)], /line 4, seq (\d+): seq \d+ where \1 was expected: records are missing or out of order$/]
  ]
  for (const [name, edit, reason] of cases) {
    const d = await dataDir(t)
    const segment = d.segments()[1] as string
    const lines = d.lines(segment)
    d.write(segment, edit(lines))
    const res = await verify(d)
    assert.equal(res.code, 1, name)
    const first = res.out.split('\n')[0] as string
    assert.ok(first.startsWith(`TAMPERED: the first bad record is in ${segment}, `), `${name}: ${first}`)
    assert.match(first, reason, name)
    assert.equal(Number(reason.exec(first)?.[1]), seqOf(lines[3]), name)
  }
})

test('a truncated log is named: records cut from the end, and a segment cut mid-line', async (t) => {
  const d = await dataDir(t)
  const last = d.segments().at(-1) as string
  d.write(last, d.lines(last).slice(0, -3))
  const res = await verify(d)
  assert.equal(res.code, 1)
  assert.match(res.out, new RegExp(`^TAMPERED: the first bad record is in ${last}, line \\d+, seq 58: the log ends at seq 57 but a signed checkpoint covers seq 60: records were removed from the end$`, 'm'))
  const e = await dataDir(t)
  const first = e.segments()[0] as string
  const text = readFileSync(join(e.auditDir, first), 'utf8')
  writeFileSync(join(e.auditDir, first), text.slice(0, text.length - 40))
  const cut = await verify(e)
  assert.equal(cut.code, 1)
  assert.match(cut.out, new RegExp(`^TAMPERED: the first bad record is in ${first}, line \\d+, seq \\d+: an incomplete line inside the log$`, 'm'))
})

test('usage and setup errors exit 2: no audit log, no master key, an unreadable anchors file, an argument', async (t) => {
  const d = await dataDir(t)
  const empty = mkdtempSync(join(tmpdir(), 'portcullis-verify-empty-'))
  t.after(() => rmSync(empty, { recursive: true, force: true }))
  const none = await run(auditVerifyCommand, ['--data-dir', empty], {})
  assert.deepEqual([none.code, none.err], [2, `portcullis audit verify: no audit log in ${join(empty, 'audit')} (wrong --data-dir?)`])
  rmSync(join(d.dataDir, 'master.key'))
  const noKey = await verify(d)
  assert.equal(noKey.code, 2)
  assert.match(noKey.err, /no master key: .*master\.key does not exist and PORTCULLIS_MASTER_KEY is not set/)
  assert.deepEqual(readdirSync(d.dataDir).includes('master.key'), false, 'verify never creates a master key')
  assert.equal((await verify(d, ['--anchors', join(empty, 'nope')], { PORTCULLIS_MASTER_KEY: d.master })).code, 2)
  assert.equal((await verify(d, ['extra'])).code, 2)
  assert.equal((await run(auditVerifyCommand, ['--public-key', 'k.pem'], {})).code, 2)
  // Another master key: nothing verifies (the first checkpoint's signature already fails).
  const wrong = await verify(d, [], { PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') })
  assert.equal(wrong.code, 1)
  assert.match(wrong.out, /^TAMPERED: .*checkpoint signature does not verify$/m)
})

test('exported checkpoints catch a log cut together with its own checkpoints; the public key checks them alone', async (t) => {
  const d = await dataDir(t)
  const anchors = join(d.dataDir, 'anchors.jsonl')
  const pem = join(d.dataDir, 'audit.pem')
  const exported = await run(auditCheckpointsCommand, ['--data-dir', d.dataDir, '--out', anchors, '--public-key-out', pem], {})
  assert.equal(exported.code, 0, exported.err)
  assert.match(exported.err, /checkpoints written to .*anchors\.jsonl; the newest covers seq 60/)
  assert.match(readFileSync(pem, 'utf8'), /^-----BEGIN PUBLIC KEY-----/)
  // The attacker removes the last 15 records and every checkpoint that covered them.
  for (const segment of d.segments()) {
    const kept = d.lines(segment).filter((line) => seqOf(line) <= 45)
    if (kept.length === 0) rmSync(join(d.auditDir, segment))
    else d.write(segment, kept)
  }
  const cps = readFileSync(join(d.auditDir, 'checkpoints.jsonl'), 'utf8').split('\n').filter((l) => l !== '' && (JSON.parse(l) as { seq: number }).seq <= 40)
  writeFileSync(join(d.auditDir, 'checkpoints.jsonl'), cps.map((l) => l + '\n').join(''))
  assert.equal((await verify(d)).code, 0, 'the directory alone cannot tell')
  const anchored = await verify(d, ['--anchors', anchors])
  assert.equal(anchored.code, 1)
  assert.match(anchored.out, /the log ends at seq 45 but a signed checkpoint covers seq 60: records were removed from the end/)
  const signed = await run(auditVerifyCommand, ['--public-key', pem, '--anchors', anchors], {})
  assert.deepEqual([signed.code, /^OK: \d+ checkpoints signed by this key; the newest covers seq 60 \(/.test(signed.out)], [0, true], signed.out + signed.err)
  const forged = readFileSync(anchors, 'utf8').replace(/"seq":60/, '"seq":61')
  writeFileSync(anchors, forged)
  const bad = await run(auditVerifyCommand, ['--public-key', pem, '--anchors', anchors], {})
  assert.equal(bad.code, 1)
  assert.match(bad.out, /^TAMPERED: .*anchors\.jsonl line \d+ \(seq 61\): checkpoint signature does not verify with this public key$/)
})

test('--help of every audit command, and the audit commands in the command list', async () => {
  const out: string[] = []
  const io = { out: (l: string) => { out.push(l) }, err: (l: string) => { out.push(l) }, env: {} }
  assert.equal(await runCli(['audit', 'verify', '--help'], io), 0)
  assert.match(out.join('\n'), /^Usage: portcullis audit verify \[--data-dir DIR\][\s\S]*Exit code 0: intact; 1: tampered or damaged; 2: usage/)
  for (const name of ['search', 'tail', 'export', 'checkpoints']) {
    out.length = 0
    assert.equal(await runCli(['audit', name, '--help'], io), 0)
    assert.match(out.join('\n'), new RegExp(`^Usage: portcullis audit ${name} `))
  }
  out.length = 0
  await runCli(['--help'], io)
  for (const name of ['verify', 'search', 'tail', 'export', 'checkpoints']) assert.match(out.join('\n'), new RegExp(`^  audit ${name} +\\S`, 'm'))
})
