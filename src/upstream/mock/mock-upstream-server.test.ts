import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import OpenAI from 'openai'
import { startMockUpstream, type MockUpstreamOptions } from './mock-upstream-server.ts'
import { waitFor } from '../upstream-test-fixture.ts'

async function start (t: TestContext, options: MockUpstreamOptions = {}) {
  const mock = await startMockUpstream(options)
  t.after(() => mock.close())
  return { mock, client: new OpenAI({ baseURL: mock.url, apiKey: options.apiKey ?? 'sk-any', maxRetries: 0, timeout: 5_000 }) }
}

test('speaks the OpenAI API to the official SDK: chat, stream, completions, embeddings (base64), models', async (t) => {
  const { mock, client } = await start(t)
  const chat = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Ping' }] })
  const text = chat.choices[0]?.message.content ?? ''
  assert.match(text, /You said: Ping$/)

  let streamed = ''
  for await (const chunk of await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Ping' }], stream: true })) {
    streamed += chunk.choices[0]?.delta.content ?? ''
  }
  assert.equal(streamed, text)

  const completion = await client.completions.create({ model: 'mock-gpt', prompt: 'Pong' })
  assert.match(completion.choices[0]?.text ?? '', /You said: Pong$/)

  const embedding = await client.embeddings.create({ model: 'mock-embedding', input: 'vector me' })
  assert.equal(embedding.data[0]?.embedding.length, 16)

  const models = await client.models.list()
  assert.deepEqual(models.data.map((m) => [m.id, m.owned_by]), [['mock-gpt', 'portcullis-mock'], ['mock-embedding', 'portcullis-mock']])
  assert.equal(mock.stats.requests, 5)
  assert.equal(mock.stats.aborted, 0)
})

test('is labelled x-portcullis-mock and requires the configured key, echoing a wrong one as OpenAI does', async (t) => {
  const { mock } = await start(t, { apiKey: 'sk-right' })
  const wrong = await fetch(`${mock.url}/models`, { headers: { authorization: 'Bearer sk-wrong' } })
  assert.equal(wrong.status, 401)
  assert.match(await wrong.text(), /sk-wrong/)
  const right = await fetch(`${mock.url}/models`, { headers: { authorization: 'Bearer sk-right' } })
  assert.equal(right.status, 200)
  assert.equal(right.headers.get('x-portcullis-mock'), 'true')
  await right.arrayBuffer()
  const unknown = await fetch(`${mock.url}/nope`, { method: 'POST', headers: { authorization: 'Bearer sk-right' }, body: '{}' })
  assert.equal(unknown.status, 404)
  await unknown.arrayBuffer()
  assert.equal(mock.stats.recent.at(-1)?.path, '/v1/nope')
})

test('#mock:status and #mock:latency drive the answer', async (t) => {
  const { mock, client } = await start(t)
  await assert.rejects(client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: '#mock:status=503' }] }), { status: 503 })
  const started = performance.now()
  await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: '#mock:latency=150' }] })
  assert.ok(performance.now() - started >= 140)
  assert.equal(mock.stats.requests, 2)
})

test('#mock:error_after breaks the stream after N chunks; #mock:stall holds it open until the client leaves', async (t) => {
  const { mock, client } = await start(t)
  const seen: unknown[] = []
  await assert.rejects(async () => {
    const stream = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: '#mock:error_after=2 #mock:tokens=10' }], stream: true })
    for await (const chunk of stream) seen.push(chunk)
  })
  assert.equal(seen.length, 2)
  assert.equal(mock.stats.aborted, 0, 'a break the mock made is not a client abort')

  const controller = new AbortController()
  const stalled = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: '#mock:stall=3' }], stream: true }, { signal: controller.signal })
  let count = 0
  // The SDK ends the iteration quietly when its own signal aborts.
  for await (const chunk of stalled) {
    if (chunk !== undefined) count++
    if (count === 3) setTimeout(() => { controller.abort() }, 100)
  }
  assert.equal(count, 3)
  await waitFor(() => mock.stats.aborted === 1 && mock.stats.activeStreams === 0, 3_000, 'the stalled stream to count as aborted')
})
