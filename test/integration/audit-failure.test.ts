import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { readAuditFiles } from '../helpers/audit-records.ts'
import { verifyAuditLog } from '../../src/audit/audit-verifier.ts'

// Tests run as root, so permissions cannot make the disk refuse a write. Instead the audit
// directory is moved away and a plain FILE put in its place, and segments rotate by age every
// 0.36 s: the next segment the writer creates is `audit/audit-00000N.jsonl` under a file, which
// fails with ENOTDIR for root too. Moving the directory back is the disk coming back.
const rotateFast = { max_segment_age_hours: 0.0001 }

async function chat (gw: TestGateway, secret: string, content = 'hi'): Promise<{ status: number, body: { error?: { code: string, message: string } } }> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }] })
  })
  return { status: res.status, body: await res.json() as never }
}

async function readyz (gw: TestGateway): Promise<{ status: number, checks: Record<string, string> }> {
  const res = await fetch(gw.url + '/readyz')
  return { status: res.status, checks: (await res.json() as { checks: Record<string, string> }).checks }
}

/** Puts a file where the audit directory was, and waits until the writer has failed on it. */
async function breakAuditDir (gw: TestGateway, secret: string): Promise<() => Promise<void>> {
  const dir = join(gw.dataDir, 'audit')
  // Records already queued (the admin record of createKey, the first chat) are written first:
  // otherwise their write races the rename below.
  await gw.gateway.audit.writer.flush()
  await rename(dir, dir + '.away')
  await writeFile(dir, 'not a directory')
  await sleep(400)
  // One more request queues a record (served, or already refused if a background flush of an
  // admin record found the directory gone); its write needs a new segment, which cannot be created.
  assert.ok([200, 503].includes((await chat(gw, secret)).status))
  await assert.rejects(gw.gateway.audit.writer.flush(), /ENOTDIR/)
  return async () => {
    await rm(dir)
    await rename(dir + '.away', dir)
  }
}

async function waitReady (gw: TestGateway): Promise<void> {
  const deadline = Date.now() + 5_000
  while ((await readyz(gw)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the audit sink did not recover')
    await sleep(50)
  }
}

test('fail closed: requests get 503 and /readyz 503 while the audit log cannot be written, then recover', async () => {
  const gw = await startTestGateway({ config: { audit: rotateFast }, keepDataDir: true })
  try {
    const key = await gw.createKey()
    assert.equal((await chat(gw, key.secret)).status, 200)
    assert.equal((await readyz(gw)).checks.audit, 'ok')
    const restore = await breakAuditDir(gw, key.secret)

    const refused = await chat(gw, key.secret)
    assert.equal(refused.status, 503)
    assert.equal(refused.body.error?.code, 'service_unavailable')
    assert.match(refused.body.error?.message ?? '', /audit log cannot be written/)
    assert.ok(!/ENOTDIR|audit-0|\//.test(refused.body.error?.message ?? ''), 'the message shows internals')
    const down = await readyz(gw)
    assert.equal(down.status, 503)
    assert.equal(down.checks.audit, 'down')

    await restore()
    await waitReady(gw)
    assert.equal((await chat(gw, key.secret)).status, 200)
    await gw.gateway.close()
    // Every request, the refused one included, is in the log, and the chain is intact.
    const { records } = await readAuditFiles(gw.dataDir)
    const requests = records.filter((r) => r.type === 'request')
    assert.equal(requests.length, 4)
    assert.deepEqual([requests[0]?.status, requests[2]?.status, requests[3]?.status], [200, 503, 200])
    assert.equal(requests[2]?.error, 'service_unavailable')
    const verified = await verifyAuditLog(join(gw.dataDir, 'audit'), gw.gateway.audit.verifyKeys)
    assert.equal(verified.ok, true, JSON.stringify(verified.firstBad))
  } finally {
    await gw.close()
    await rm(gw.dataDir, { recursive: true, force: true })
  }
})

test('fail open: requests are served while the audit log fails, with an error log line', async () => {
  const gw = await startTestGateway({ config: { audit: { ...rotateFast, on_failure: 'fail_open' } } })
  try {
    const key = await gw.createKey()
    const before = gw.logs.length
    const restore = await breakAuditDir(gw, key.secret)
    assert.equal((await chat(gw, key.secret)).status, 200)
    assert.equal((await chat(gw, key.secret)).status, 200)
    const errors = gw.logs.slice(before).map((l) => JSON.parse(l) as { level: number, msg: string })
      .filter((l) => l.level >= 50 && /audit log cannot be written/.test(l.msg))
    assert.equal(errors.length, 1, 'one error line (rate-limited), not one per request')
    assert.match(errors[0]?.msg ?? '', /LOST/)
    assert.equal((await readyz(gw)).status, 503)
    await restore()
    await waitReady(gw)
  } finally {
    await gw.close()
  }
})

test('graceful shutdown writes a record for every request, in flight ones included', async () => {
  const gw = await startTestGateway({ keepDataDir: true })
  try {
    const key = await gw.createKey()
    const sent = 25
    // Every request reaches the gateway well before the shutdown starts, and all are still running.
    const answers = Array.from({ length: sent }, (_, i) => chat(gw, key.secret, `slow ${i} #mock:latency=${600 + i * 10}`))
    await sleep(300)
    await gw.gateway.close()
    const statuses = await Promise.all(answers.map(async (a) => (await a).status))
    assert.deepEqual(statuses, Array(sent).fill(200))
    const { records } = await readAuditFiles(gw.dataDir)
    assert.equal(records.filter((r) => r.type === 'request').length, sent)
    const verified = await verifyAuditLog(join(gw.dataDir, 'audit'), gw.gateway.audit.verifyKeys)
    assert.equal(verified.ok, true)
    // The final checkpoint covers the last record: nothing after it is unprotected.
    const { readCheckpoints } = await import('../../src/audit/audit-checkpoint.ts')
    const checkpoints = await readCheckpoints(join(gw.dataDir, 'audit'))
    assert.equal(checkpoints.at(-1)?.seq, records.at(-1)?.seq)
  } finally {
    await gw.close()
    await rm(gw.dataDir, { recursive: true, force: true })
  }
})
