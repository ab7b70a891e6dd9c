import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { Agent, request } from 'undici'
import { startMockUpstream, type MockUpstream } from '../../src/upstream/mock/mock-upstream-server.ts'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// The gateway in front of a real HTTP upstream (the mock server), as in production.
const providerKey = 'sk-provider-' + 'p'.repeat(32)
let upstream: MockUpstream
let echoServer: Server
let echoUrl: string
let gw: TestGateway
let key: string

async function waitFor (condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

before(async () => {
  upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, apiKey: providerKey })
  // An upstream that fails the way real ones do: echoing the key it was given in a 401 body.
  echoServer = createServer((req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization ?? ''} at ${req.headers.host ?? ''}`, code: 'invalid_api_key' } }))
  })
  echoServer.listen(0, '127.0.0.1')
  await once(echoServer, 'listening')
  const address = echoServer.address()
  echoUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/v1`
  gw = await startTestGateway({
    env: { PROVIDER_KEY: providerKey },
    config: {
      upstreams: [
        { name: 'local', type: 'openai', base_url: upstream.url, api_key: { env: 'PROVIDER_KEY' }, timeouts: { headers_ms: 2000, idle_ms: 3000 } },
        { name: 'echoing', type: 'openai', base_url: echoUrl, api_key: { env: 'PROVIDER_KEY' } },
        { name: 'down', type: 'openai', base_url: 'http://127.0.0.1:9/v1', timeouts: { connect_ms: 1000 } }
      ],
      models: [
        { name: 'local-*', upstream: 'local', upstream_model: 'served-model' },
        { name: 'echo-model', upstream: 'echoing' },
        { name: 'down-model', upstream: 'down' }
      ]
    }
  })
  key = (await gw.createKey({ scopes: ['chat', 'embeddings'] })).secret
})
after(async () => {
  await gw.close()
  await upstream.close()
  echoServer.close()
})

function chatBody (content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'local-chat', messages: [{ role: 'user', content }], ...extra })
}

test('the provider key is injected; the caller\'s credentials and headers never reach the upstream', async () => {
  const before = upstream.stats.requests
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    body: chatBody('hello'),
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      'x-api-key': key,
      cookie: 'session=caller-cookie',
      'x-caller-secret': 'caller-private-header',
      'proxy-authorization': 'Basic Y2FsbGVyOnB3',
      'x-forwarded-for': '198.51.100.7'
    }
  })
  assert.equal(res.status, 200)
  await res.json()
  assert.equal(upstream.stats.requests, before + 1)
  const seen = upstream.stats.recent.at(-1)
  assert.ok(seen !== undefined)
  assert.equal(seen.headers.authorization, `Bearer ${providerKey}`)
  assert.equal(seen.body?.model, 'served-model', 'the route\'s upstream model name is sent')
  const all = JSON.stringify(seen.headers)
  for (const leaked of [key, 'caller-cookie', 'caller-private-header', 'Y2FsbGVyOnB3', '198.51.100.7']) {
    assert.ok(!all.includes(leaked), `upstream saw ${leaked}`)
  }
})

test('streamed events reach the client before the upstream has finished', async () => {
  const started = performance.now()
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    body: chatBody('one two three four five six #mock:interval=250', { stream: true }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const first = await reader.read()
  const firstAt = performance.now() - started
  assert.match(Buffer.from(first.value ?? new Uint8Array()).toString(), /^data: \{/)
  assert.equal(upstream.stats.activeStreams, 1, 'the upstream is still streaming when the first event arrived')
  let rest = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString()
  const total = performance.now() - started
  assert.match(rest, /data: \[DONE\]\n\n$/)
  assert.ok(total - firstAt > 1000, `first event after ${firstAt.toFixed(0)} ms, stream ended after ${total.toFixed(0)} ms`)
})

test('a client that disconnects mid-stream aborts the upstream request', async () => {
  const abortedBefore = upstream.stats.aborted
  const controller = new AbortController()
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    signal: controller.signal,
    body: chatBody('a long answer #mock:interval=200 #mock:tokens=50', { stream: true }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  })
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  await reader.read()
  controller.abort()
  await waitFor(() => upstream.stats.aborted === abortedBefore + 1)
  await waitFor(() => upstream.stats.activeStreams === 0)
})

test('500 concurrent slow streams each get their first event promptly', async () => {
  const streams = 500
  const agent = new Agent({ connections: streams + 10 })
  try {
    const started = performance.now()
    const firstEvents: number[] = []
    const all = Array.from({ length: streams }, async () => {
      const res = await request(gw.url + '/v1/chat/completions', {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: chatBody('w1 w2 w3 w4 w5 #mock:interval=300', { stream: true })
      })
      assert.equal(res.statusCode, 200)
      let first = true
      let text = ''
      for await (const chunk of res.body) {
        if (first) { firstEvents.push(performance.now() - started); first = false }
        text += chunk.toString()
      }
      assert.match(text, /\[DONE\]/)
    })
    await waitFor(() => firstEvents.length === streams, 20_000)
    assert.ok(upstream.stats.activeStreams > streams / 2, `streams were held open concurrently (${upstream.stats.activeStreams} active)`)
    await Promise.all(all)
    const slowest = Math.max(...firstEvents)
    assert.ok(slowest < 5000, `slowest first event after ${slowest.toFixed(0)} ms`)
  } finally {
    await agent.close()
  }
})

/** Calls a model whose upstream fails; returns the raw error body after checking it is a 502 upstream_error. */
async function upstreamFailureBody (model: string): Promise<string> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  })
  const text = await res.text()
  assert.equal(res.status, 502)
  assert.equal(JSON.parse(text).error.code, 'upstream_error')
  return text
}

test('an unreachable upstream is a 502 upstream_error that names no address', async () => {
  const text = await upstreamFailureBody('down-model')
  assert.ok(!text.includes('127.0.0.1') && !text.includes(':9'), text)
})

test('an upstream 401 that echoes the provider key reaches the client as 502 without the key, body or URL', async () => {
  const text = await upstreamFailureBody('echo-model')
  for (const leaked of [providerKey, 'Incorrect API key', echoUrl, '127.0.0.1']) assert.ok(!text.includes(leaked), `leaked ${leaked}`)
})

test('upstream timeouts are 504, also after a stream has started (as one error event)', async () => {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST', body: chatBody('slow head #mock:latency=2500'),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  })
  assert.equal(res.status, 504)
  assert.equal((await res.json() as { error: { code: string } }).error.code, 'upstream_timeout')

  const stalled = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST', body: chatBody('stall #mock:stall=2', { stream: true }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }
  })
  assert.equal(stalled.status, 200)
  const text = await stalled.text()
  const events = text.split('\n\n').filter((e) => e !== '')
  const last = JSON.parse((events.at(-1) as string).slice('data: '.length)) as { error: { code: string } }
  assert.equal(last.error.code, 'upstream_timeout')
})
