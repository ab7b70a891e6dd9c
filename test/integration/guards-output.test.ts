import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { auditRecordOf, readAuditFiles } from '../helpers/audit-records.ts'
import { canaries, chat, proxyPost, replyOf, sseData, streamedText } from '../helpers/guard-requests.ts'

// Output guards over the built-in mock, which echoes the last user message. Input secret guards
// are off for these tenants so the echo carries the value; `#mock:chunk_chars=N` makes the mock
// stream N characters per chunk, so a value arrives split across SSE events.
let gw: TestGateway
const keys: Record<string, string> = {}
const canary = canaries()
const prose = 'Here is a long enough sentence that goes out before anything sensitive appears in the answer, and then some more words to be sure.'

before(async () => {
  gw = await startTestGateway({
    config: {
      guards: {
        policies: [
          { target: { kind: 'tenant', id: 'echo' }, input: { secrets: { action: 'off' }, pii: { action: 'off' } } },
          { target: { kind: 'tenant', id: 'out-block' }, input: { secrets: { action: 'off' } }, output: { secrets: { action: 'block' } } },
          { target: { kind: 'tenant', id: 'out-pii' }, input: { pii: { action: 'off' } }, output: { pii: { action: 'redact' } } }
        ]
      }
    }
  })
  for (const tenant of [null, 'echo', 'out-block', 'out-pii']) keys[tenant ?? 'default'] = (await gw.createKey({ tenant })).secret
})
after(async () => { await gw.close() })

test('a secret split across SSE chunks is caught and redacted before the client sees any part of it', async () => {
  for (const size of [1, 5, 13]) {
    const answer = await chat(gw, keys.echo as string, `${prose} key=${canary.openaiKey} done #mock:chunk_chars=${size}`, { stream: true })
    assert.equal(answer.status, 200)
    assert.ok(!answer.text.includes(canary.openaiKey.slice(8, 30)), `size ${size}: part of the key reached the client`)
    const text = streamedText(answer.text)
    assert.ok(text.endsWith(`${prose} key=[REDACTED_SECRET_OPENAI_1] done`), text)
    assert.equal(sseData(answer.text).at(-1), '[DONE]', 'held-back text is flushed before [DONE]')
    const record = await auditRecordOf(gw, answer.requestId)
    const out = (record.guards as Array<Record<string, unknown>>).filter((g) => g.direction === 'output')
    assert.ok(out.some((g) => g.detector === 'secret' && g.action === 'redact' && (g.types as string[]).includes('secret.openai')))
  }
})

test('a clean stream arrives whole and in order, the same text as the JSON answer', async () => {
  const prompt = `${prose} Nothing to see here. #mock:chunk_chars=7`
  const json = await chat(gw, keys.default as string, prompt)
  const stream = await chat(gw, keys.default as string, prompt, { stream: true, stream_options: { include_usage: true } })
  assert.equal(streamedText(stream.text), replyOf(json))
  const data = sseData(stream.text)
  assert.equal(data.at(-1), '[DONE]')
  assert.ok(JSON.parse(data.at(-2) as string).usage !== undefined, 'the usage chunk still comes last before [DONE]')
  const completions = await proxyPost(gw, keys.default as string, '/v1/completions', { model: 'mock-gpt', prompt, stream: true })
  const whole = await proxyPost(gw, keys.default as string, '/v1/completions', { model: 'mock-gpt', prompt })
  assert.equal(streamedText(completions.text), replyOf(whole))
})

test('block mid-stream: the text before the secret, then exactly one error event, then the end', async () => {
  const answer = await chat(gw, keys['out-block'] as string, `${prose} key=${canary.openaiKey} more text #mock:chunk_chars=4`, { stream: true })
  assert.equal(answer.status, 200)
  const data = sseData(answer.text)
  const errors = data.filter((d) => d.includes('"error"'))
  assert.equal(errors.length, 1)
  assert.equal(data.at(-1), errors[0], 'the error event is the last event')
  assert.ok(!data.includes('[DONE]'))
  const error = JSON.parse(errors[0] as string).error as { code: string, message: string }
  assert.equal(error.code, 'content_blocked')
  assert.ok(error.message.includes('secret.openai'))
  assert.ok(!answer.text.includes(canary.openaiKey.slice(8, 30)))
  assert.ok(streamedText(data.filter((d) => d !== errors[0]).map((d) => `data: ${d}`).join('\n\n')).startsWith('This is a mock reply'), 'text before the secret was streamed')
  const record = await auditRecordOf(gw, answer.requestId)
  assert.equal(record.error, 'content_blocked')
  assert.ok((record.guards as Array<Record<string, unknown>>).some((g) => g.direction === 'output' && g.action === 'block'))
})

test('JSON answers: block is 400 content_blocked, redact rewrites the message', async () => {
  const blocked = await chat(gw, keys['out-block'] as string, `key=${canary.openaiKey}`)
  assert.equal(blocked.status, 400)
  assert.equal((blocked.json as { error: { code: string } }).error.code, 'content_blocked')
  assert.ok(!blocked.text.includes(canary.openaiKey))
  const redacted = await chat(gw, keys['out-pii'] as string, `write to ${canary.email}`)
  assert.equal(redacted.status, 200)
  assert.ok(replyOf(redacted).endsWith('write to [REDACTED_EMAIL_1]'), replyOf(redacted))
  assert.equal(redacted.headers.get('x-portcullis-guards'), 'pii.email')
})

test('output canaries never reach the audit log or the logs', async () => {
  await gw.gateway.audit.writer.flush()
  const audit = (await readAuditFiles(gw.dataDir)).lines.join('\n')
  for (const value of [canary.openaiKey, canary.email]) {
    assert.ok(!audit.includes(value))
    assert.ok(!gw.logs.join('\n').includes(value))
  }
})
