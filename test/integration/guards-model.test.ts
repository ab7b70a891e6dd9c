import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { auditRecordOf, readAuditFiles } from '../helpers/audit-records.ts'
import { chat } from '../helpers/guard-requests.ts'

// The guard model as a real local HTTP server speaking the OpenAI chat API the way Llama Guard
// under vLLM does: `safe`, or `unsafe\nS1`. A prompt containing STALL gets no answer (timeout);
// one containing GARBAGE gets free text (unparseable). Two gateways: fail closed and fail open.
const guardKey = 'sk-guard-canary-' + randomBytes(12).toString('hex')
let server: Server
let baseUrl = ''
const seen: Array<{ authorization: string | undefined, body: string }> = []
let closed: TestGateway
let open: TestGateway
let closedKey = ''
let openKey = ''

before(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body })
      if (body.includes('STALL')) return
      const content = body.includes('GARBAGE') ? 'I think it is fine' : body.includes('UNSAFE') ? 'unsafe\nS1,S10' : 'safe'
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  const guards = (onFailure: string): Record<string, unknown> => ({
    guard_model: { base_url: baseUrl, model: 'llama-guard', api_key: { env: 'GUARD_KEY' }, timeout_ms: 300, on_failure: onFailure },
    policies: [{ target: { kind: 'tenant', id: 'flagging' }, input: { guard_model: 'flag' } }]
  })
  closed = await startTestGateway({ env: { GUARD_KEY: guardKey }, config: { guards: guards('fail_closed') } })
  open = await startTestGateway({ env: { GUARD_KEY: guardKey }, config: { guards: guards('fail_open') } })
  closedKey = (await closed.createKey()).secret
  openKey = (await open.createKey()).secret
})
after(async () => {
  await closed.close()
  await open.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

test('safe passes; unsafe is blocked with the categories as types; the guard sees the key', async () => {
  const safe = await chat(closed, closedKey, 'what is the capital of France?')
  assert.equal(safe.status, 200, safe.text)
  assert.equal(seen.at(-1)?.authorization, `Bearer ${guardKey}`)
  assert.ok(seen.at(-1)?.body.includes('capital of France'))
  const unsafe = await chat(closed, closedKey, 'UNSAFE request')
  assert.equal(unsafe.status, 400)
  const error = (unsafe.json as { error: { code: string, message: string } }).error
  assert.equal(error.code, 'prompt_blocked')
  assert.ok(error.message.includes('guard_model.S1') && error.message.includes('guard_model.S10'), error.message)
  const record = await auditRecordOf(closed, unsafe.requestId)
  const verdict = (record.guards as Array<Record<string, unknown>>).find((g) => g.detector === 'guard_model')
  assert.deepEqual([verdict?.action, verdict?.types], ['block', ['guard_model.S1', 'guard_model.S10']])
})

test('a flag policy lets an unsafe verdict pass with the header', async () => {
  const key = (await closed.createKey({ tenant: 'flagging' })).secret
  const answer = await chat(closed, key, 'UNSAFE but only flagged')
  assert.equal(answer.status, 200, answer.text)
  assert.equal(answer.headers.get('x-portcullis-guards'), 'guard_model.S1,guard_model.S10')
})

test('fail closed: a guard that times out or answers garbage refuses with 503, within the timeout', async () => {
  const started = performance.now()
  const stalled = await chat(closed, closedKey, 'STALL please')
  assert.ok(performance.now() - started < 3_000, 'the guard call is bounded by timeout_ms')
  assert.equal(stalled.status, 503)
  assert.equal((stalled.json as { error: { code: string } }).error.code, 'service_unavailable')
  const record = await auditRecordOf(closed, stalled.requestId)
  const verdict = (record.guards as Array<Record<string, unknown>>).find((g) => g.detector === 'guard_model')
  assert.deepEqual([verdict?.action, verdict?.failure], ['block', 'timeout'])
  const garbage = await chat(closed, closedKey, 'GARBAGE')
  assert.equal(garbage.status, 503)
})

test('fail open: the same failures pass and are recorded', async () => {
  const stalled = await chat(open, openKey, 'STALL please')
  assert.equal(stalled.status, 200, stalled.text)
  const record = await auditRecordOf(open, stalled.requestId)
  const verdict = (record.guards as Array<Record<string, unknown>>).find((g) => g.detector === 'guard_model')
  assert.deepEqual([verdict?.action, verdict?.failure], ['allow', 'timeout'])
  const unsafe = await chat(open, openKey, 'UNSAFE request')
  assert.equal(unsafe.status, 400, 'a real verdict still blocks')
})

test('the guard key never reaches a log, an error body or the audit log', async () => {
  for (const gw of [closed, open]) {
    await gw.gateway.audit.writer.flush()
    assert.ok(!(await readAuditFiles(gw.dataDir)).lines.join('\n').includes(guardKey))
    assert.ok(!gw.logs.join('\n').includes(guardKey))
  }
})
