import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createOpenAIProvider } from './openai-provider.ts'
import { startMockUpstream } from './mock/mock-upstream-server.ts'
import { chatBody, collect, jsonOf, openaiUpstream, streamedText, streamOf, waitFor, eachEvent } from './upstream-test-fixture.ts'

const PROVIDER_KEY = 'sk-provider-canary-4242'

async function setup (t: import('node:test').TestContext, options: Parameters<typeof startMockUpstream>[0] = {}) {
  const mock = await startMockUpstream({ apiKey: PROVIDER_KEY, ...options })
  const provider = createOpenAIProvider(openaiUpstream(mock.url), PROVIDER_KEY)
  t.after(async () => {
    await provider.close()
    await mock.close()
  })
  return { mock, provider }
}

function send (provider: ReturnType<typeof createOpenAIProvider>, body: Record<string, unknown>, extra: { endpoint?: 'chat.completions' | 'completions' | 'embeddings', signal?: AbortSignal } = {}) {
  return provider.send({
    endpoint: extra.endpoint ?? 'chat.completions',
    body,
    stream: body.stream === true,
    signal: extra.signal ?? new AbortController().signal,
    requestId: 'req_abc'
  })
}

test('a JSON chat completion comes back parsed, with validated usage and the mock label', async (t) => {
  const { provider } = await setup(t)
  const response = jsonOf(await send(provider, chatBody('Hello there')))
  assert.equal(response.status, 200)
  const body = response.body as { choices: Array<{ message: { content: string } }>, usage: { prompt_tokens: number, completion_tokens: number } }
  assert.match(body.choices[0]?.message.content ?? '', /You said: Hello there$/)
  assert.deepEqual(response.usage, { inputTokens: body.usage.prompt_tokens, outputTokens: body.usage.completion_tokens })
  assert.equal(response.headers['x-portcullis-mock'], 'true')
})

test('a stream arrives event by event, ends with [DONE], and reports the usage chunk', async (t) => {
  const { provider } = await setup(t)
  const response = streamOf(await send(provider, chatBody('Stream me', { stream: true, stream_options: { include_usage: true } })))
  assert.equal(response.usage(), null)
  const events = await collect(response.events)
  assert.equal(events.at(-1)?.data, '[DONE]')
  assert.match(streamedText(events), /You said: Stream me$/)
  const usageChunk = events.at(-2)?.json as { choices: unknown[], usage: { prompt_tokens: number, completion_tokens: number } }
  assert.deepEqual(usageChunk.choices, [])
  assert.deepEqual(response.usage(), { inputTokens: usageChunk.usage.prompt_tokens, outputTokens: usageChunk.usage.completion_tokens })
})

test('embeddings and legacy completions reach their paths', async (t) => {
  const { mock, provider } = await setup(t)
  const embeddings = jsonOf(await send(provider, { model: 'mock-embedding', input: ['a b', 'c'], dimensions: 8 }, { endpoint: 'embeddings' }))
  const data = (embeddings.body as { data: Array<{ embedding: number[] }> }).data
  assert.equal(data.length, 2)
  assert.equal(data[0]?.embedding.length, 8)
  assert.deepEqual(embeddings.usage, { inputTokens: 3, outputTokens: 0 })
  const completion = jsonOf(await send(provider, { model: 'mock-gpt', prompt: 'Once' }, { endpoint: 'completions' }))
  assert.match((completion.body as { choices: Array<{ text: string }> }).choices[0]?.text ?? '', /You said: Once$/)
  assert.deepEqual(mock.stats.recent.map((r) => r.path), ['/v1/embeddings', '/v1/completions'])
})

test('the provider key reaches the upstream as authorization, and nothing from the caller does', async (t) => {
  const { mock, provider } = await setup(t)
  await send(provider, chatBody('hi'))
  const seen = mock.stats.recent.at(-1)
  assert.ok(seen !== undefined)
  assert.equal(seen.headers.authorization, `Bearer ${PROVIDER_KEY}`)
  assert.equal(seen.headers['x-request-id'], 'req_abc')
  assert.deepEqual(Object.keys(seen.headers).sort(), ['accept', 'authorization', 'connection', 'content-length', 'content-type', 'host', 'user-agent', 'x-request-id'])
  assert.equal(seen.body?.model, 'mock-gpt')
})

test('aborting the signal mid-stream stops the upstream request (the mock counts it aborted)', async (t) => {
  const { mock, provider } = await setup(t, { chunkIntervalMs: 50 })
  const controller = new AbortController()
  const response = streamOf(await send(provider, chatBody('#mock:tokens=100', { stream: true }), { signal: controller.signal }))
  const seen: string[] = []
  await assert.rejects(async () => {
    for await (const event of eachEvent(response.events)) {
      seen.push(event.data)
      if (seen.length === 3) controller.abort()
    }
  }, { name: 'GatewayError' })
  await waitFor(() => mock.stats.aborted === 1 && mock.stats.activeStreams === 0, 3_000, 'the upstream to see the abort')
})

test('a consumer that stops reading (return) releases the upstream stream', async (t) => {
  const { mock, provider } = await setup(t, { chunkIntervalMs: 50 })
  const response = streamOf(await send(provider, chatBody('#mock:tokens=100', { stream: true })))
  for await (const event of eachEvent(response.events)) if (event.data !== '') break
  await waitFor(() => mock.stats.aborted === 1 && mock.stats.activeStreams === 0, 3_000, 'the upstream to see the early return')
})
