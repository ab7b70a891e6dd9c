import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { GatewayError } from '../errors/gateway-error.ts'
import type { ResponseSink } from '../pipeline/response-sink.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { SseEvent } from '../upstream/provider.ts'
import { configSchema } from '../config/config-schema.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { runPipeline } from '../pipeline/run-pipeline.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { buildGuards } from './build-guards.ts'

// The output stage inside the real pipeline runner, with upstream streams the mock does not
// produce: two choices interleaved, and a stream that ends without a finish chunk or [DONE].

class RecordingSink implements ResponseSink {
  streamStarted = false
  events: string[] = []
  error: GatewayError | null = null
  ended = false
  sendJson (): void {}
  sendError (err: GatewayError): void { this.error = err }
  startStream (): void { this.streamStarted = true }
  writeEvent (event: SseEvent): void { this.events.push(event.data) }
  endStreamWithError (err: GatewayError): void { this.error = err; this.ended = true }
  endStream (): void { this.ended = true }
}

const key = 'sk-proj-' + 'a1'.repeat(20)

function chunk (index: number, content: string, finish: string | null = null): SseEvent {
  const json = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta: { content }, finish_reason: finish }] }
  return { event: null, data: JSON.stringify(json), json }
}

async function run (events: SseEvent[]): Promise<{ sink: RecordingSink, texts: Map<number, string> }> {
  const guards = await buildGuards({ config: configSchema.parse({}).guards, resolveSecret: async () => '', verdict: () => {} })
  assert.ok(guards !== null)
  const upstream: Stage = {
    name: 'fake-upstream',
    onRequest (ctx) {
      ctx.upstream = {
        kind: 'stream', status: 200, headers: {}, usage: () => null,
        events: (async function * () { for (const e of events) yield [e] })()
      }
    }
  }
  const ctx = newRequestContext({
    requestId: 'r1', endpoint: 'chat.completions', method: 'POST', headers: {}, socketIp: '127.0.0.1',
    rawBody: null, signal: new AbortController().signal, log: silentLog
  })
  ctx.body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }
  ctx.stream = true
  const sink = new RecordingSink()
  await runPipeline(ctx, [guards.input, upstream, guards.output], sink)
  const texts = new Map<number, string>()
  for (const data of sink.events) {
    if (data === '[DONE]') continue
    for (const c of (JSON.parse(data) as { choices: Array<{ index: number, delta: { content?: string } }> }).choices) {
      texts.set(c.index, (texts.get(c.index) ?? '') + (c.delta.content ?? ''))
    }
  }
  return { sink, texts }
}

test('interleaved choices are scanned separately, each redacted and flushed at its finish chunk', async () => {
  const a = `choice zero says ${key} ok`
  const b = 'choice one is clean and long enough to be held back for a while'
  const events: SseEvent[] = []
  for (let i = 0; i < Math.max(a.length, b.length); i += 4) {
    if (i < a.length) events.push(chunk(0, a.slice(i, i + 4)))
    if (i < b.length) events.push(chunk(1, b.slice(i, i + 4)))
  }
  events.push(chunk(0, '', 'stop'), chunk(1, '', 'stop'), { event: null, data: '[DONE]', json: undefined })
  const { sink, texts } = await run(events)
  assert.equal(texts.get(0), 'choice zero says [REDACTED_SECRET_OPENAI_1] ok')
  assert.equal(texts.get(1), b)
  assert.equal(sink.events.at(-1), '[DONE]')
  assert.ok(!sink.events.join('').includes(key.slice(10, 30)))
})

test('a stream without finish chunk or [DONE] still delivers the held-back text', async () => {
  const text = 'the upstream closed without saying goodbye, and this tail was still held back'
  const events = []
  for (let i = 0; i < text.length; i += 10) events.push(chunk(0, text.slice(i, i + 10)))
  const { sink, texts } = await run(events)
  assert.equal(texts.get(0), text)
  assert.ok(sink.ended && sink.error === null)
})
