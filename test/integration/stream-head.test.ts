import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// An upstream that opens the stream at once and sends its first token only after a long prefill,
// as a large model does: the client must see the stream open without waiting for that token.
const prefillMs = 800
let upstream: Server
let gw: TestGateway
let key: string

before(async () => {
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.flushHeaders()
    setTimeout(() => {
      res.write('data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"late"}}]}\n\n')
      res.end('data: [DONE]\n\n')
    }, prefillMs)
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const address = upstream.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  gw = await startTestGateway({
    config: { upstreams: [{ name: 'slow', type: 'openai', base_url: `http://127.0.0.1:${port}/v1` }], models: [{ name: 'slow-model', upstream: 'slow' }] }
  })
  key = (await gw.createKey({ scopes: ['chat'] })).secret
})
after(async () => {
  await gw.close()
  upstream.close()
})

test('the stream head reaches the client before a slow first token', async () => {
  const started = performance.now()
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'slow-model', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  })
  const headAt = performance.now() - started
  assert.equal(res.status, 200)
  assert.ok(headAt < prefillMs / 2, `head after ${headAt.toFixed(0)} ms`)
  const text = await res.text()
  assert.ok(performance.now() - started >= prefillMs * 0.9)
  assert.match(text, /"late"[\s\S]*data: \[DONE\]/)
})
