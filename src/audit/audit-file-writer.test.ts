import { test } from 'node:test'
import { tempAuditDir } from './audit-test-dirs.ts'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { openAuditFileWriter } from './audit-file-writer.ts'
import { AuditQueueFullError } from './audit-writer.ts'
import { readCheckpoints, verifyCheckpoint } from './audit-checkpoint.ts'
import { deriveAuditKeys } from './audit-keys.ts'
import { sampleAuditFields } from './audit-log-fixture.ts'
import { verifyAuditLog } from './audit-verifier.ts'

const keys = deriveAuditKeys(randomBytes(32))

function tempLogDir (): string {
  return tempAuditDir('portcullis-audit-')
}

function lines (dir: string, name: string): string[] {
  return readFileSync(join(dir, name), 'utf8').split('\n').filter((line) => line !== '')
}

function lastByte (file: string, size: number): number {
  const fd = openSync(file, 'r')
  try {
    const byte = Buffer.alloc(1)
    readSync(fd, byte, 0, 1, size - 1)
    return byte[0] as number
  } finally {
    closeSync(fd)
  }
}

async function until (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10)
  assert.ok(condition(), 'condition not reached in 5 s')
}

test('append returns before anything is written; lines land in a 0600 segment in a 0700 dir', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys })
  const record = writer.append(sampleAuditFields(1))
  assert.equal(record.seq, 1)
  assert.equal(statSync(join(dir, 'audit-000001.jsonl')).size, 0)
  await writer.close()
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name)
  assert.deepEqual(JSON.parse(lines(dir, 'audit-000001.jsonl')[0] ?? ''), record)
})

test('segments rotate by size and the chain continues across them', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, maxSegmentBytes: 2000 })
  for (let i = 1; i <= 40; i++) writer.append(sampleAuditFields(i))
  await writer.close()
  const names = readdirSync(dir).filter((name) => name.startsWith('audit-')).sort()
  assert.ok(names.length > 3, names.join())
  assert.equal(names[0], 'audit-000001.jsonl')
  const lastOfFirst = JSON.parse(lines(dir, names[0] ?? '').at(-1) ?? '') as { mac: string }
  const firstOfSecond = JSON.parse(lines(dir, names[1] ?? '')[0] ?? '') as { prev: string }
  assert.equal(firstOfSecond.prev, lastOfFirst.mac)
  for (const name of names) assert.ok(statSync(join(dir, name)).size <= 2000, name)
  assert.deepEqual(await verifyAuditLog(dir, keys), { ok: true, records: 40, checkpoints: 1, tornBytes: 0 })
})

test('segments also rotate by age', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, maxSegmentAgeMs: 30 })
  writer.append(sampleAuditFields(1))
  await writer.flush()
  await sleep(50)
  writer.append(sampleAuditFields(2))
  await writer.close()
  assert.equal(lines(dir, 'audit-000002.jsonl').length, 1)
  assert.equal((await verifyAuditLog(dir, keys)).records, 2)
})

test('a reopened writer resumes the chain; a torn final line is cut off and reported', async () => {
  const dir = tempLogDir()
  const first = await openAuditFileWriter({ dir, keys })
  for (let i = 1; i <= 3; i++) first.append(sampleAuditFields(i))
  await first.close()
  appendFileSync(join(dir, 'audit-000001.jsonl'), '{"seq":4,"prev":"ab')
  const second = await openAuditFileWriter({ dir, keys })
  assert.deepEqual(second.status().recovered, [{ file: 'audit-000001.jsonl', bytes: 19 }])
  assert.equal(second.append(sampleAuditFields(4)).seq, 4)
  await second.close()
  assert.equal(lines(dir, 'audit-000001.jsonl').length, 4)
  assert.deepEqual(await verifyAuditLog(dir, keys), { ok: true, records: 4, checkpoints: 2, tornBytes: 0 })
})

test('a full queue makes append throw a typed error, so the caller can fail closed', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, queueSize: 3 })
  for (let i = 1; i <= 3; i++) writer.append(sampleAuditFields(i))
  assert.throws(() => writer.append(sampleAuditFields(4)), (err: unknown) => err instanceof AuditQueueFullError && err.code === 'audit_queue_full')
  await writer.flush()
  assert.equal(writer.append(sampleAuditFields(4)).seq, 4)
  await writer.close()
  assert.equal((await verifyAuditLog(dir, keys)).records, 4)
})

test('a failed write makes the writer unhealthy, keeps the records and retries until it succeeds', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, maxSegmentBytes: 600, retryMs: 20 })
  writer.append(sampleAuditFields(1))
  await writer.flush()
  // The next segment's name is taken by a directory: opening it fails as a lost permission would.
  mkdirSync(join(dir, 'audit-000002.jsonl'))
  for (let i = 2; i <= 5; i++) writer.append(sampleAuditFields(i))
  await assert.rejects(writer.flush(), /EISDIR|EEXIST/)
  assert.equal(writer.healthy(), false)
  assert.equal(writer.status().pending, 4)
  assert.match(writer.status().lastError ?? '', /audit-000002/)
  rmSync(join(dir, 'audit-000002.jsonl'), { recursive: true })
  await until(() => writer.healthy())
  await writer.close()
  assert.deepEqual(await verifyAuditLog(dir, keys), { ok: true, records: 5, checkpoints: 1, tornBytes: 0 })
})

test('fsync policy: interval syncs on its timer (or flush), batch after every write', async () => {
  const intervalDir = tempLogDir()
  const interval = await openAuditFileWriter({ dir: intervalDir, keys, fsyncIntervalMs: 60_000 })
  interval.append(sampleAuditFields(1))
  await until(() => interval.status().writtenSeq === 1)
  assert.equal(interval.status().durableSeq, 0)
  await interval.flush()
  assert.equal(interval.status().durableSeq, 1)
  interval.append(sampleAuditFields(2))
  await interval.close()
  const tickDir = tempLogDir()
  const tick = await openAuditFileWriter({ dir: tickDir, keys, fsyncIntervalMs: 20 })
  tick.append(sampleAuditFields(1))
  await until(() => tick.status().durableSeq === 1)
  await tick.close()
  const batchDir = tempLogDir()
  const batch = await openAuditFileWriter({ dir: batchDir, keys, fsync: 'batch', checkpointEveryRecords: 2 })
  batch.append(sampleAuditFields(1))
  batch.append(sampleAuditFields(2))
  await until(() => batch.status().durableSeq === 2 && batch.status().checkpointSeq === 2)
  await batch.close()
})

test('with fsync interval, records wait writeDelayMs and leave in one write; with batch they go at once', async () => {
  const dir = tempLogDir()
  const delayed = await openAuditFileWriter({ dir, keys, writeDelayMs: 300 })
  for (let i = 1; i <= 5; i++) delayed.append(sampleAuditFields(i))
  await sleep(100)
  assert.equal(statSync(join(dir, 'audit-000001.jsonl')).size, 0, 'written before the delay')
  await until(() => statSync(join(dir, 'audit-000001.jsonl')).size > 0)
  assert.equal(lines(dir, 'audit-000001.jsonl').length, 5)
  await delayed.close()

  const batchDir = tempLogDir()
  const batch = await openAuditFileWriter({ dir: batchDir, keys, fsync: 'batch', writeDelayMs: 60_000 })
  batch.append(sampleAuditFields(1))
  await until(() => statSync(join(batchDir, 'audit-000001.jsonl')).size > 0)
  await batch.close()
})

test('under steady appends, with fsync interval, a write happens once per writeDelayMs, not after every write', async () => {
  // Records arriving while a write is in flight must wait for the next scheduled write: a busy
  // gateway would otherwise write (and wake a libuv thread) once per completion, several times
  // per millisecond. Every write grows the file once, so counting size changes counts writes.
  // Counted where a write ended: a size seen while the kernel is still copying a write (it runs
  // on a libuv thread) does not end at a newline.
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, writeDelayMs: 100 })
  const file = join(dir, 'audit-000001.jsonl')
  let appended = 0
  let writes = 0
  let size = 0
  const started = performance.now()
  while (performance.now() - started < 600) {
    writer.append(sampleAuditFields(++appended))
    await new Promise((resolve) => setImmediate(resolve))
    const now = statSync(file).size
    if (now !== size && lastByte(file, now) === 0x0a) {
      writes += 1
      size = now
    }
  }
  const elapsed = performance.now() - started
  await writer.close()
  assert.equal(lines(dir, 'audit-000001.jsonl').length, appended)
  assert.ok(appended > 50, `only ${appended} appends`)
  assert.ok(writes >= 2 && writes <= Math.ceil(elapsed / 100) + 1, `${writes} writes in ${Math.round(elapsed)} ms for ${appended} records`)
})

test('checkpoints are signed every N durable records and on close, and exportable', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys, checkpointEveryRecords: 10 })
  for (let i = 1; i <= 25; i++) {
    writer.append(sampleAuditFields(i))
    if (i % 5 === 0) await writer.flush()
  }
  await writer.close()
  const checkpoints = await readCheckpoints(dir)
  assert.deepEqual(checkpoints.map((checkpoint) => checkpoint.seq), [10, 20, 25])
  for (const checkpoint of checkpoints) assert.ok(verifyCheckpoint(keys.publicKey, checkpoint))
  const record20 = JSON.parse(lines(dir, 'audit-000001.jsonl')[19] ?? '') as { mac: string }
  assert.equal(checkpoints[1]?.mac, record20.mac)
})

test('close writes everything still queued', async () => {
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys })
  for (let i = 1; i <= 500; i++) writer.append(sampleAuditFields(i))
  await writer.close()
  assert.equal(lines(dir, 'audit-000001.jsonl').length, 500)
  assert.throws(() => writer.append(sampleAuditFields(501)), /closed/)
})

test('user-controlled strings with newlines, quotes, NUL and ANSI escapes stay on one line and verify', async () => {
  const dir = tempLogDir()
  const hostile = 'line1\nline2\r\n"quoted" \\ \u0000nul \u001b[31mred\u001b[0m \u2028 {"seq":1}'
  const writer = await openAuditFileWriter({ dir, keys })
  writer.append({ user_agent: hostile, metadata: { [hostile]: hostile } })
  writer.append(sampleAuditFields(2))
  await writer.close()
  const text = readFileSync(join(dir, 'audit-000001.jsonl'), 'utf8')
  assert.equal(text.split('\n').length, 3)
  assert.ok(!text.includes('\u001b') && !text.includes('\u0000') && !text.includes('\r'))
  assert.equal((JSON.parse(text.split('\n')[0] ?? '') as { user_agent: string }).user_agent, hostile)
  assert.equal((await verifyAuditLog(dir, keys)).ok, true)
})

test('canary: no key, in any encoding, appears in any file of the log directory', async () => {
  const master = randomBytes(32)
  const canaryKeys = deriveAuditKeys(master)
  const jwk = canaryKeys.signingKey.export({ format: 'jwk' })
  const signingSeed = Buffer.from(jwk.d ?? '', 'base64url')
  assert.equal(signingSeed.length, 32)
  const dir = tempLogDir()
  const writer = await openAuditFileWriter({ dir, keys: canaryKeys, checkpointEveryRecords: 5 })
  for (let i = 1; i <= 20; i++) writer.append(sampleAuditFields(i))
  await writer.close()
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, name))
    for (const secret of [master, canaryKeys.macKey.export(), signingSeed]) {
      for (const form of [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))]) {
        assert.equal(bytes.indexOf(form), -1, `a key appears in ${name}`)
      }
    }
  }
})
