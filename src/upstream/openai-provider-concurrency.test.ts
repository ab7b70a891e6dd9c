import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { createOpenAIProvider } from './openai-provider.ts'
import { startMockUpstream } from './mock/mock-upstream-server.ts'
import { chatBody, openaiUpstream, streamOf, eachEvent } from './upstream-test-fixture.ts'

const STREAMS = 500

test('500 slow concurrent streams through one provider all start promptly (no pool queuing)', { timeout: 30_000 }, async (t) => {
  // 200 ms between chunks, 10 chunks: each stream stays open ≥ 2 s, so any connection cap shows.
  const mock = await startMockUpstream({ chunkIntervalMs: 200 })
  const provider = createOpenAIProvider(openaiUpstream(mock.url), 'sk-test')
  t.after(async () => {
    await provider.close()
    await mock.close()
  })
  const started = performance.now()
  const firstEventAt: number[] = []
  let maxActive = 0
  const runs = Array.from({ length: STREAMS }, async () => {
    const response = streamOf(await provider.send({
      endpoint: 'chat.completions', body: chatBody('#mock:tokens=8', { stream: true }), stream: true, signal: new AbortController().signal, requestId: 'req_c'
    }))
    let events = 0
    for await (const event of eachEvent(response.events)) {
      if (events++ === 0) firstEventAt.push(performance.now() - started)
      maxActive = Math.max(maxActive, mock.stats.activeStreams)
      if (event.data === '[DONE]') break
    }
    return events
  })
  const counts = await Promise.all(runs)
  assert.equal(firstEventAt.length, STREAMS)
  const slowest = Math.max(...firstEventAt)
  assert.ok(slowest < 3_000, `the slowest stream got its first event after ${Math.round(slowest)} ms`)
  assert.equal(maxActive, STREAMS, 'all streams were open at once')
  // role + 8 tokens + finish + [DONE]
  for (const count of counts) assert.equal(count, 11)
})
