import { test } from 'node:test'
import { tempAuditDir } from './audit-test-dirs.ts'
import assert from 'node:assert/strict'
import { createSecretKey, randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAuditChain } from './audit-chain.ts'
import { checkpointFileName, readCheckpoints } from './audit-checkpoint.ts'
import { deriveAuditKeys } from './audit-keys.ts'
import { writeAuditLogFixture } from './audit-log-fixture.ts'
import { verifyAuditLog } from './audit-verifier.ts'
import { canonicalJson } from './canonical-json.ts'

const keys = deriveAuditKeys(randomBytes(32))

/** 60 records over several segments (about 20 a segment), a checkpoint every 10 records and on close. */
async function writtenLog (): Promise<string> {
  const dir = tempAuditDir('portcullis-verify-')
  await writeAuditLogFixture({ dir, keys, maxSegmentBytes: 20 * 520, checkpointEveryRecords: 10, queueSize: 10 }, 60)
  return dir
}

function readLines (dir: string, name: string): string[] {
  return readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1)
}

function writeLines (dir: string, name: string, lines: string[]): void {
  writeFileSync(join(dir, name), lines.map((line) => line + '\n').join(''))
}

function segments (dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('audit-')).sort()
}

test('an intact log verifies, record by record and checkpoint by checkpoint', async () => {
  const dir = await writtenLog()
  assert.ok(segments(dir).length >= 3, segments(dir).join())
  assert.deepEqual(await verifyAuditLog(dir, keys), { ok: true, records: 60, checkpoints: 6, tornBytes: 0 })
  const other = deriveAuditKeys(randomBytes(32))
  assert.equal((await verifyAuditLog(dir, other)).ok, false)
})

test('an edited field is named by segment, line and seq', async () => {
  const dir = await writtenLog()
  const name = segments(dir)[1] ?? ''
  const lines = readLines(dir, name)
  lines[4] = (lines[4] ?? '').replace('"status":200', '"status":500')
  writeLines(dir, name, lines)
  const result = await verifyAuditLog(dir, keys)
  const seq = (JSON.parse(lines[4] ?? '') as { seq: number }).seq
  assert.deepEqual(result.firstBad, { segment: name, line: 5, seq, reason: 'mac does not match: the record was altered or forged' })
  assert.equal(result.records, seq - 1)
})

test('an edit that only changes the spelling of a line (whitespace, a duplicate key) is named', async () => {
  const dir = await writtenLog()
  const lines = readLines(dir, 'audit-000001.jsonl')
  lines[2] = (lines[2] ?? '').replace('{', '{"status":500,')
  writeLines(dir, 'audit-000001.jsonl', lines)
  assert.deepEqual((await verifyAuditLog(dir, keys)).firstBad, { segment: 'audit-000001.jsonl', line: 3, seq: 3, reason: 'not in canonical form: the line was edited' })
})

test('a deleted record is named where it is missing', async () => {
  const dir = await writtenLog()
  const lines = readLines(dir, 'audit-000001.jsonl')
  lines.splice(6, 1)
  writeLines(dir, 'audit-000001.jsonl', lines)
  const bad = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([bad?.segment, bad?.line, bad?.seq], ['audit-000001.jsonl', 7, 7])
  assert.match(bad?.reason ?? '', /seq 8 where 7 was expected: records are missing/)
})

test('an inserted record is named, whether forged with another key or replayed', async () => {
  const dir = await writtenLog()
  const original = readLines(dir, 'audit-000001.jsonl')
  const previous = JSON.parse(original[4] ?? '') as { seq: number, mac: string }
  const forged = createAuditChain(createSecretKey(randomBytes(32)), previous).seal({ action: 'grant', actor: 'mallory' })
  writeLines(dir, 'audit-000001.jsonl', original.toSpliced(5, 0, canonicalJson(forged)))
  assert.deepEqual((await verifyAuditLog(dir, keys)).firstBad, { segment: 'audit-000001.jsonl', line: 6, seq: 6, reason: 'mac does not match: the record was altered or forged' })
  writeLines(dir, 'audit-000001.jsonl', original.toSpliced(5, 0, original[2] ?? ''))
  const replayed = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([replayed?.line, replayed?.seq], [6, 6])
  assert.match(replayed?.reason ?? '', /repeated, inserted or out of order/)
})

test('reordered records are named at the first one out of place', async () => {
  const dir = await writtenLog()
  const lines = readLines(dir, 'audit-000001.jsonl')
  const [a, b] = [lines[10] ?? '', lines[11] ?? '']
  lines[10] = b
  lines[11] = a
  writeLines(dir, 'audit-000001.jsonl', lines)
  const bad = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([bad?.segment, bad?.line, bad?.seq], ['audit-000001.jsonl', 11, 11])
})

test('a truncated log (records cut after the last checkpoint) is named at the first missing seq', async () => {
  const dir = await writtenLog()
  const last = segments(dir).at(-1) ?? ''
  const lines = readLines(dir, last)
  const kept = lines.slice(0, -1)
  writeLines(dir, last, kept)
  const bad = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([bad?.segment, bad?.line, bad?.seq], [last, kept.length + 1, 60])
  assert.match(bad?.reason ?? '', /ends at seq 59 but a signed checkpoint covers seq 60/)
})

test('a tail cut together with its checkpoints is caught by an exported anchor', async () => {
  const dir = await writtenLog()
  const anchors = (await readCheckpoints(dir)).slice(-1)
  const last = segments(dir).at(-1) ?? ''
  writeLines(dir, last, readLines(dir, last).slice(0, -1))
  writeLines(dir, checkpointFileName, readLines(dir, checkpointFileName).slice(0, -1))
  assert.equal((await verifyAuditLog(dir, keys)).ok, true, 'without an anchor the directory alone cannot tell')
  const bad = (await verifyAuditLog(dir, keys, { anchors })).firstBad
  assert.equal(bad?.seq, 60)
  assert.match(bad?.reason ?? '', /removed from the end/)
})

test('a removed segment is named, in the middle, at the start or at the end', async () => {
  const middle = await writtenLog()
  const names = segments(middle)
  rmSync(join(middle, names[1] ?? ''))
  const bad = (await verifyAuditLog(middle, keys)).firstBad
  assert.deepEqual([bad?.segment, bad?.line, bad?.reason], [names[2], 1, `segment ${names[1]} is missing`])
  const start = await writtenLog()
  rmSync(join(start, 'audit-000001.jsonl'))
  // Without a retention record that names it, a missing start is the first bad record.
  const firstLeft = (JSON.parse(readLines(start, names[1] ?? '')[0] ?? '') as { seq: number }).seq
  assert.deepEqual((await verifyAuditLog(start, keys)).firstBad, { segment: names[1], line: 1, seq: firstLeft, reason: 'segment audit-000001.jsonl is missing and no retention record accounts for it' })
  const end = await writtenLog()
  rmSync(join(end, names.at(-1) ?? ''))
  assert.match((await verifyAuditLog(end, keys)).firstBad?.reason ?? '', /removed from the end/)
})

test('a renumbered segment (one removed, the rest renamed) still breaks the chain', async () => {
  const dir = await writtenLog()
  const names = segments(dir)
  rmSync(join(dir, names[1] ?? ''))
  renameSync(join(dir, names[2] ?? ''), join(dir, names[1] ?? ''))
  const bad = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([bad?.segment, bad?.line], [names[1], 1])
  assert.match(bad?.reason ?? '', /records are missing/)
})

test('a forged or edited checkpoint is named in checkpoints.jsonl', async () => {
  const dir = await writtenLog()
  const lines = readLines(dir, checkpointFileName)
  const edited = JSON.parse(lines[0] ?? '') as { seq: number }
  lines[0] = canonicalJson({ ...edited, seq: 11 })
  writeLines(dir, checkpointFileName, lines)
  assert.deepEqual((await verifyAuditLog(dir, keys)).firstBad, { segment: checkpointFileName, line: 1, seq: 11, reason: 'checkpoint signature does not verify' })
})

test('a torn final line (a crash before restart) is reported, not failed', async () => {
  const dir = await writtenLog()
  const last = segments(dir).at(-1) ?? ''
  writeFileSync(join(dir, last), readFileSync(join(dir, last), 'utf8') + '{"seq":61,')
  assert.deepEqual(await verifyAuditLog(dir, keys), { ok: true, records: 60, checkpoints: 6, tornBytes: 10 })
})
