import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import { buildAudit } from './build-audit.ts'
import type { AuditRecord } from './audit-chain.ts'
import { tempAuditDir } from './audit-test-dirs.ts'
import { configSchema } from '../config/config-schema.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import type { Logger, RequestContext } from '../pipeline/context.ts'
import { isGatewayError } from '../errors/gateway-error.ts'

interface LogLine { level: string, obj: object, msg?: string }

function capturingLog (): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) }) }
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), isLevelEnabled: () => true }
}

function context (): RequestContext {
  return newRequestContext({
    requestId: 'req_' + randomBytes(8).toString('hex'),
    endpoint: 'chat.completions',
    method: 'POST',
    headers: { 'user-agent': 'unit' },
    socketIp: '127.0.0.1',
    rawBody: null,
    signal: new AbortController().signal,
    log: capturingLog()
  })
}

async function open (audit: Record<string, unknown>, log = capturingLog()): Promise<Awaited<ReturnType<typeof buildAudit>>> {
  const config = configSchema.parse({ data_dir: dirname(tempAuditDir('build-audit-')), audit })
  return await buildAudit({ config, masterKey: randomBytes(32), log })
}

test('a full queue makes the record stage refuse (fail closed) and /readyz report it', async () => {
  const audit = await open({ queue_size: 1 })
  try {
    audit.append({ type: 'admin', action: 'test' })
    // Synchronously, before the background flush ran: the one slot is taken.
    assert.deepEqual(audit.ready(), { ok: false, detail: 'the audit queue is full' })
    assert.throws(() => audit.append({ type: 'admin', action: 'second' }), { code: 'audit_queue_full' })
    const ctx = context()
    assert.throws(() => audit.stage.onRequest?.(ctx), (err: unknown) => {
      assert.ok(isGatewayError(err))
      assert.equal(err.code, 'service_unavailable')
      assert.equal(err.status, 503)
      return true
    })
    await audit.stage.onComplete?.(ctx)
    await audit.writer.flush()
    assert.deepEqual(audit.ready(), { ok: true })
    const served = context()
    assert.equal(audit.stage.onRequest?.(served), undefined)
    await audit.stage.onComplete?.(served)
  } finally {
    await audit.close()
  }
  assert.equal(audit.ready().ok, false, 'a closed audit log is not ready')
})

test('listeners get every sealed record, and a throwing listener neither breaks the append nor the others', async () => {
  const log = capturingLog()
  const audit = await open({}, log)
  const seen: AuditRecord[] = []
  audit.onRecord(() => { throw new Error('listener bug') })
  audit.onRecord((record) => { seen.push(record) })
  try {
    const ctx = context()
    ctx.status = 200
    audit.stage.onRequest?.(ctx)
    await audit.stage.onComplete?.(ctx)
    const admin = audit.append({ type: 'admin', action: 'x' })
    assert.deepEqual(seen.map((r) => [r.type, r.seq]), [['request', 1], ['admin', 2]])
    assert.equal(seen[0]?.request_id, ctx.requestId)
    assert.equal(admin.seq, 2)
    assert.equal(log.lines.filter((l) => l.level === 'error' && /listener failed/.test(l.msg ?? '')).length, 1, 'logged once (rate-limited)')
  } finally {
    await audit.close()
  }
})

test('guard verdicts that are not JSON are recorded as null instead of losing the record', async () => {
  const audit = await open({})
  const seen: AuditRecord[] = []
  audit.onRecord((record) => { seen.push(record) })
  try {
    const ctx = context()
    ctx.guards = [{ name: 'pii', score: Number.NaN }]
    await audit.stage.onComplete?.(ctx)
    const ok = context()
    ok.guards = [{ name: 'pii', action: 'redact' }]
    await audit.stage.onComplete?.(ok)
    assert.deepEqual(seen.map((r) => r.guards), [null, [{ action: 'redact', name: 'pii' }]])
  } finally {
    await audit.close()
  }
})

test('close() waits for requests still in the pipeline to be recorded', async () => {
  const audit = await open({})
  const seen: AuditRecord[] = []
  audit.onRecord((record) => { seen.push(record) })
  const ctx = context()
  audit.stage.onRequest?.(ctx)
  const closed = audit.close()
  await new Promise((resolve) => setTimeout(resolve, 30))
  ctx.status = 200
  await audit.stage.onComplete?.(ctx)
  await closed
  assert.equal(seen.length, 1)
  assert.equal(audit.writer.status().durableSeq, 1)
})
