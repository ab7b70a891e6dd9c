import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { RequestContext } from '../pipeline/context.ts'
import type { SseEvent } from './provider.ts'
import { createForwardStage } from './forward-stage.ts'
import { createOpenAIProvider } from './openai-provider.ts'
import { startMockUpstream } from './mock/mock-upstream-server.ts'
import { createMockProvider } from './mock/mock-provider.ts'
import { chatBody, mockUpstreamConfig, openaiUpstream, streamOf, waitFor, testContext, eachEvent } from './upstream-test-fixture.ts'

const stage = createForwardStage()

/** Runs the forward stage the way the pipeline does; returns the events the client would get. */
async function forward (ctx: RequestContext): Promise<SseEvent[]> {
  await stage.onRequest?.(ctx)
  const out: SseEvent[] = []
  try {
    if (ctx.upstream?.kind === 'stream') {
      for await (const event of eachEvent(ctx.upstream.events)) {
        const passed = stage.onChunk?.(ctx, event) ?? null
        if (passed !== null) out.push(passed)
      }
    }
  } finally {
    await stage.onComplete?.(ctx)
  }
  return out
}

async function withMockServer (t: TestContext, options = {}) {
  const mock = await startMockUpstream(options)
  const provider = createOpenAIProvider(openaiUpstream(mock.url), null)
  t.after(async () => {
    await provider.close()
    await mock.close()
  })
  return { mock, route: { upstream: 'test-upstream', upstreamModel: 'upstream-model-x', provider } }
}

test('sends the routed model, always asks a stream for usage, and sets ttfb and usage', async (t) => {
  const { mock, route } = await withMockServer(t)
  const ctx = testContext({ model: 'alias', body: chatBody('hi', { model: 'alias', stream: true, stream_options: { foo: 1 } }), stream: true, route })
  await forward(ctx)
  const sent = mock.stats.recent.at(-1)?.body
  assert.equal(sent?.model, 'upstream-model-x')
  assert.deepEqual(sent?.stream_options, { foo: 1, include_usage: true })
  assert.equal(ctx.body?.model, 'alias', 'the authorised body itself is not mutated')
  assert.ok(ctx.ttfbMs !== null && ctx.ttfbMs >= 0)
  assert.ok(ctx.usage !== null && ctx.usage.outputTokens > 0)
})

test('a client that did not ask for usage gets no usage chunk and no usage fields', async (t) => {
  const { route } = await withMockServer(t)
  const ctx = testContext({ body: chatBody('hi', { stream: true }), stream: true, clientWantsUsage: false, route })
  const events = await forward(ctx)
  assert.equal(events.at(-1)?.data, '[DONE]')
  assert.ok(events.every((e) => !e.data.includes('"usage"')))
  assert.ok(ctx.usage !== null, 'usage is still settled')

  // Some vLLM versions put usage on every chunk: stripped, and `data` rewritten to match `json`.
  const vllm: SseEvent = { event: null, data: '{"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}', json: { choices: [{ delta: { content: 'x' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } } }
  const stripped = stage.onChunk?.(testContext({ clientWantsUsage: false }), vllm)
  assert.deepEqual(stripped?.json, { choices: [{ delta: { content: 'x' } }] })
  assert.deepEqual(JSON.parse(stripped?.data ?? ''), stripped?.json)
})

test('a client that asked for usage gets the usage chunk', async (t) => {
  const { route } = await withMockServer(t)
  const ctx = testContext({ body: chatBody('hi', { stream: true, stream_options: { include_usage: true } }), stream: true, clientWantsUsage: true, route })
  const events = await forward(ctx)
  const usageChunk = events.at(-2)?.json as { choices: unknown[], usage: { completion_tokens: number } }
  assert.deepEqual(usageChunk.choices, [])
  assert.equal(usageChunk.usage.completion_tokens, ctx.usage?.outputTokens)
})

test('JSON answers (embeddings here) set usage as soon as they arrive', async () => {
  const provider = createMockProvider(mockUpstreamConfig())
  const route = { upstream: 'mock', upstreamModel: 'mock-embedding', provider }
  const ctx = testContext({ endpoint: 'embeddings', body: { model: 'e', input: 'a b c' }, route })
  await stage.onRequest?.(ctx)
  assert.deepEqual(ctx.usage, { inputTokens: 3, outputTokens: 0 })
  await stage.onComplete?.(ctx)
})

test('completion releases an upstream stream nobody read (a later stage refused the head)', async (t) => {
  const { mock, route } = await withMockServer(t, { chunkIntervalMs: 100 })
  const ctx = testContext({ body: chatBody('#mock:tokens=50', { stream: true }), stream: true, route })
  await stage.onRequest?.(ctx)
  streamOf(ctx.upstream ?? assert.fail('no response'))
  await waitFor(() => mock.stats.activeStreams === 1, 3_000, 'the stream to open')
  await stage.onComplete?.(ctx)
  await waitFor(() => mock.stats.aborted === 1 && mock.stats.activeStreams === 0, 3_000, 'the upstream stream to be released')
})

test('a client disconnect aborts the upstream request', async (t) => {
  const { mock, route } = await withMockServer(t, { chunkIntervalMs: 100 })
  const client = new AbortController()
  const ctx = testContext({ body: chatBody('#mock:tokens=50', { stream: true }), stream: true, route, signal: client.signal })
  setTimeout(() => { client.abort() }, 150)
  await assert.rejects(forward(ctx), { name: 'GatewayError' })
  await waitFor(() => mock.stats.aborted === 1, 3_000, 'the upstream to see the abort')
})
