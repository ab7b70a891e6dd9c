import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempAuditDir } from './audit-test-dirs.ts'
import { deriveAuditKeys } from './audit-keys.ts'
import { openAuditFileWriter } from './audit-file-writer.ts'
import type { AuditWriter } from './audit-writer.ts'
import { sampleAuditFields } from './audit-log-fixture.ts'
import { applyAuditRetention } from './audit-retention.ts'
import { verifyAuditLog } from './audit-verifier.ts'

const keys = deriveAuditKeys(randomBytes(32))
const day = 86_400_000
const now = Date.UTC(2025, 6, 1)

/**
 * A real log of 20-record segments: records 1–50 from January 2025, 51–100 from the last day
 * (so segment 3 mixes both), a checkpoint every 10 records. The writer stays open.
 */
async function mixedLog (): Promise<{ dir: string, writer: AuditWriter }> {
  const dir = tempAuditDir('portcullis-retention-')
  const writer = await openAuditFileWriter({ dir, keys, maxSegmentBytes: 20 * 520, checkpointEveryRecords: 10 })
  for (let i = 1; i <= 100; i++) {
    const fields = sampleAuditFields(i)
    writer.append(i <= 50 ? fields : { ...fields, timestamp_utc: new Date(now - day + i * 1000).toISOString() })
    if (i % 10 === 0) await writer.flush()
  }
  await writer.flush()
  return { dir, writer }
}

const segments = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith('audit-')).sort()
const firstSeqOf = (dir: string, name: string): number => (JSON.parse(readFileSync(join(dir, name), 'utf8').split('\n')[0] ?? '') as { seq: number }).seq

async function retain (dir: string, writer: AuditWriter, days = 30, at = now) {
  return await applyAuditRetention({ dir, retentionDays: days, append: (fields) => writer.append(fields), writer, now: () => at })
}

test('retention deletes only the leading whole segments that are old, and records which', async () => {
  const { dir, writer } = await mixedLog()
  const before = segments(dir)
  assert.ok(before.length >= 5, before.join())
  const result = await retain(dir, writer)
  assert.deepEqual(result.deleted, before.slice(0, 2), 'segments 1 and 2 are old; 3 holds a recent record')
  assert.deepEqual(segments(dir), before.slice(2))
  const record = result.record
  assert.ok(record !== null)
  assert.equal(record.first_seq, 1)
  assert.equal(record.last_seq, firstSeqOf(dir, before[2] ?? '') - 1)
  assert.deepEqual(record.segments.map((s) => s.name), before.slice(0, 2))
  assert.equal((await retain(dir, writer)).deleted.length, 0, 'a second run finds nothing more')
  await writer.close()
  const verified = await verifyAuditLog(dir, keys)
  assert.equal(verified.ok, true, JSON.stringify(verified.firstBad))
  assert.equal(verified.records, 101 - record.last_seq, 'every record left plus the retention record')
  assert.ok(verified.checkpoints >= 7, 'checkpoints covering deleted records are kept and do not fail')
})

test('the retention record is in the chain: the log verifies after a restart and further retention', async () => {
  const { dir, writer } = await mixedLog()
  await retain(dir, writer)
  await writer.close()
  const resumed = await openAuditFileWriter({ dir, keys, maxSegmentBytes: 20 * 520 })
  for (let i = 101; i <= 120; i++) resumed.append({ ...sampleAuditFields(i), timestamp_utc: new Date(now + i * 1000).toISOString() })
  await resumed.flush()
  // A year later, everything but the current segment goes, including the first retention record.
  const later = await retain(dir, resumed, 30, now + 365 * day)
  assert.ok(later.deleted.length >= 2)
  assert.deepEqual(segments(dir), [resumed.status().segment])
  await resumed.close()
  assert.equal((await verifyAuditLog(dir, keys)).ok, true)
})

test('retention never deletes the segment being written, even when all of it is old', async () => {
  const dir = tempAuditDir('portcullis-retention-')
  const writer = await openAuditFileWriter({ dir, keys })
  for (let i = 1; i <= 5; i++) writer.append(sampleAuditFields(i))
  await writer.flush()
  assert.deepEqual((await retain(dir, writer, 1)).deleted, [])
  await writer.close()
  assert.deepEqual(segments(dir), ['audit-000001.jsonl'])
})

test('after retention, a segment deleted by hand is still named: at the start, in the middle', async () => {
  const { dir, writer } = await mixedLog()
  await retain(dir, writer)
  await writer.close()
  const left = segments(dir)
  rmSync(join(dir, left[1] ?? ''))
  const middle = (await verifyAuditLog(dir, keys)).firstBad
  assert.deepEqual([middle?.segment, middle?.line, middle?.reason], [left[2], 1, `segment ${left[1]} is missing`])
  const { dir: other, writer: otherWriter } = await mixedLog()
  await retain(other, otherWriter)
  await otherWriter.close()
  const names = segments(other)
  rmSync(join(other, names[0] ?? ''))
  const start = (await verifyAuditLog(other, keys)).firstBad
  assert.deepEqual(start, {
    segment: names[1], line: 1, seq: firstSeqOf(other, names[1] ?? ''), reason: `segment ${names[0]} is missing and no retention record accounts for it`
  })
})

test('an edited retention record is named, and then the deleted start counts as missing', async () => {
  const { dir, writer } = await mixedLog()
  const { record } = await retain(dir, writer)
  await writer.close()
  const last = segments(dir).at(-1) ?? ''
  const text = readFileSync(join(dir, last), 'utf8')
  writeFileSync(join(dir, last), text.replace('"retention_days":30', '"retention_days":3'))
  const bad = (await verifyAuditLog(dir, keys)).firstBad
  assert.equal(bad?.segment, segments(dir)[0])
  assert.equal(bad?.seq, (record?.last_seq ?? 0) + 1)
  assert.match(bad?.reason ?? '', /no retention record accounts for it/)
})

test('a deletion cut short by a crash (the record written, one segment of two removed) still verifies', async () => {
  const { dir, writer } = await mixedLog()
  const kept = tempAuditDir('portcullis-retention-kept-').replace(/audit$/, '')
  const before = segments(dir)
  copyFileSync(join(dir, before[1] ?? ''), join(kept, before[1] ?? ''))
  await retain(dir, writer)
  await writer.close()
  copyFileSync(join(kept, before[1] ?? ''), join(dir, before[1] ?? ''))
  assert.equal(segments(dir)[0], before[1])
  const result = await verifyAuditLog(dir, keys)
  assert.equal(result.ok, true, JSON.stringify(result.firstBad))
})

test('in a log that starts after retention, edits, deletions, insertions, reorderings and truncation are named', async () => {
  const mutations: Array<[string, (lines: string[]) => string[], RegExp]> = [
    ['edit', (lines) => lines.map((line, i) => i === 3 ? line.replace('"status":200', '"status":500') : line), /mac does not match/],
    ['deletion', (lines) => lines.toSpliced(3, 1), /records are missing/],
    ['insertion', (lines) => lines.toSpliced(3, 0, lines[1] ?? ''), /repeated, inserted or out of order/],
    ['reordering', (lines) => lines.toSpliced(3, 2, lines[4] ?? '', lines[3] ?? ''), /out of order/]
  ]
  for (const [name, mutate, reason] of mutations) {
    const { dir, writer } = await mixedLog()
    await retain(dir, writer)
    await writer.close()
    const first = segments(dir)[0] ?? ''
    const lines = readFileSync(join(dir, first), 'utf8').split('\n').slice(0, -1)
    writeFileSync(join(dir, first), mutate(lines).map((line) => line + '\n').join(''))
    const bad = (await verifyAuditLog(dir, keys)).firstBad
    assert.deepEqual([bad?.segment, bad?.line, bad?.seq], [first, 4, firstSeqOf(dir, first) + 3], name)
    assert.match(bad?.reason ?? '', reason, name)
  }
  const { dir, writer } = await mixedLog()
  await retain(dir, writer)
  for (let i = 101; i <= 105; i++) writer.append(sampleAuditFields(i))
  await writer.close()
  const last = segments(dir).at(-1) ?? ''
  const lines = readFileSync(join(dir, last), 'utf8').split('\n').slice(0, -1)
  writeFileSync(join(dir, last), lines.slice(0, -2).map((line) => line + '\n').join(''))
  assert.match((await verifyAuditLog(dir, keys)).firstBad?.reason ?? '', /removed from the end/, 'truncation')
})
