import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOpenAIProvider } from './openai-provider.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { chatBody, collect, openaiUpstream, streamOf, eachEvent } from './upstream-test-fixture.ts'

const PROVIDER_KEY = 'sk-live-provider-canary-0b5e7c'
const BODY_SECRET = 'internal-db-password-hunter2'

/** A one-off upstream on 127.0.0.1 whose behaviour is the handler. */
async function adHocUpstream (t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => { handler(req, res) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => { resolve() })
    server.closeAllConnections()
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
}

async function sendChat (t: TestContext, baseUrl: string, stream = false, timeouts = {}) {
  const provider = createOpenAIProvider(openaiUpstream(baseUrl, { timeouts: { connect_ms: 1_000, headers_ms: 300, idle_ms: 300, ...timeouts } }), PROVIDER_KEY)
  t.after(() => provider.close())
  return await provider.send({ endpoint: 'chat.completions', body: chatBody('hi', { stream }), stream, signal: new AbortController().signal, requestId: 'req_f' })
}

/** Asserts the error's code and status, and that nothing secret or internal is in its message. */
function expectError (code: string, status: number, baseUrl: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.equal(err.status, status)
    const host = new URL(baseUrl).host
    for (const forbidden of [PROVIDER_KEY, BODY_SECRET, host, '127.0.0.1']) {
      assert.ok(!err.message.includes(forbidden), `message leaks ${forbidden}: ${err.message}`)
      assert.ok(!(err.param ?? '').includes(forbidden))
    }
    return true
  }
}

test('connection refused → 502 upstream_error', async (t) => {
  // A port that was free a moment ago: nothing listens there now.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => { resolve() }))
  const url = `http://127.0.0.1:${port}/v1`
  await assert.rejects(sendChat(t, url), expectError('upstream_error', 502, url))
})

test('no response head within headers_ms → 504 upstream_timeout', async (t) => {
  const url = await adHocUpstream(t, () => {})
  await assert.rejects(sendChat(t, url), expectError('upstream_timeout', 504, url))
})

test('silence mid-stream longer than idle_ms → the iterator throws 504 upstream_timeout', async (t) => {
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"choices":[{"delta":{"content":"one"}}]}\n\n')
  })
  const response = streamOf(await sendChat(t, url, true))
  const seen: string[] = []
  await assert.rejects(async () => {
    for await (const event of eachEvent(response.events)) seen.push(event.data)
  }, expectError('upstream_timeout', 504, url))
  assert.equal(seen.length, 1)
})

test('upstream 401 echoing our provider key → 502 upstream_error without the key or the URL', async (t) => {
  const url = await adHocUpstream(t, (req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization ?? ''} at ${req.headers.host ?? ''}`, param: PROVIDER_KEY, code: 'invalid_api_key' } }))
  })
  await assert.rejects(sendChat(t, url), expectError('upstream_error', 502, url))
})

test('upstream 500 with a secret in the body → 502 upstream_error without the body', async (t) => {
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: `db connect failed: ${BODY_SECRET}`, type: 'server_error' } }))
  })
  await assert.rejects(sendChat(t, url), expectError('upstream_error', 502, url))
})

test('upstream 429 → 429 rate_limit_exceeded carrying a numeric retry-after', async (t) => {
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
    res.end(JSON.stringify({ error: { message: `slow down ${BODY_SECRET}` } }))
  })
  await assert.rejects(sendChat(t, url), (err) => {
    expectError('rate_limit_exceeded', 429, url)(err)
    assert.deepEqual((err as GatewayError).headers, { 'retry-after': '7' })
    return true
  })
})

test('upstream 400 → invalid_request with a generic message and only a plain param', async (t) => {
  let param = 'messages'
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: `bad ${BODY_SECRET}`, param } }))
  })
  await assert.rejects(sendChat(t, url), (err) => {
    expectError('invalid_request', 400, url)(err)
    assert.equal((err as GatewayError).message, 'The upstream provider rejected the request (HTTP 400).')
    assert.equal((err as GatewayError).param, 'messages')
    return true
  })
  param = `x ${BODY_SECRET}`
  await assert.rejects(sendChat(t, url), (err) => (err as GatewayError).param === null)
})

test('a 200 whose body is not JSON → 502 upstream_error', async (t) => {
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(`<html>${BODY_SECRET}</html>`)
  })
  await assert.rejects(sendChat(t, url), expectError('upstream_error', 502, url))
})

test('an upstream that breaks the connection mid-stream → the iterator throws 502 upstream_error', async (t) => {
  const url = await adHocUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"choices":[]}\n\n', () => { res.destroy() })
  })
  const response = streamOf(await sendChat(t, url, true))
  await assert.rejects(collect(response.events), expectError('upstream_error', 502, url))
})
