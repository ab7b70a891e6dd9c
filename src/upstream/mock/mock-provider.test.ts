import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { createMockProvider } from './mock-provider.ts'
import { GatewayError } from '../../errors/gateway-error.ts'
import type { ProviderRequest } from '../provider.ts'
import { chatBody, collect, jsonOf, mockUpstreamConfig, streamedText, streamOf } from '../upstream-test-fixture.ts'

function request (body: Record<string, unknown>, signal = new AbortController().signal): ProviderRequest {
  return { endpoint: 'chat.completions', body, stream: body.stream === true, signal, requestId: 'req_m' }
}

const provider = createMockProvider(mockUpstreamConfig({ timeouts: { headers_ms: 200, idle_ms: 200 } }))

test('answers in process, labelled as the mock, with the same text streamed and not', async () => {
  const whole = jsonOf(await provider.send(request(chatBody('Hi mock'))))
  assert.equal(whole.headers['x-portcullis-mock'], 'true')
  const text = (whole.body as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content
  const stream = streamOf(await provider.send(request(chatBody('Hi mock', { stream: true, stream_options: { include_usage: true } }))))
  assert.equal(stream.usage(), null)
  const events = await collect(stream.events)
  assert.equal(streamedText(events), text)
  assert.equal(events.at(-1)?.data, '[DONE]')
  assert.deepEqual(stream.usage(), whole.usage)
})

test('honours latency and chunk interval from config', async () => {
  const slow = createMockProvider(mockUpstreamConfig({ mock: { latency_ms: 60, chunk_interval_ms: 20 } }))
  const started = performance.now()
  const response = streamOf(await slow.send(request(chatBody('#mock:tokens=3', { stream: true }))))
  assert.ok(performance.now() - started >= 55)
  await collect(response.events)
  // 5 intervals: between role, 3 tokens, finish and [DONE]
  assert.ok(performance.now() - started >= 55 + 5 * 18)
})

test('maps directives to the errors a real upstream would cause', async () => {
  await assert.rejects(provider.send(request(chatBody('#mock:status=401'))), { code: 'upstream_error', status: 502 })
  await assert.rejects(provider.send(request(chatBody('#mock:status=429'))), (err) => err instanceof GatewayError && err.headers?.['retry-after'] === '1')
  await assert.rejects(provider.send(request(chatBody('#mock:latency=1000'))), { code: 'upstream_timeout' })
  await assert.rejects(provider.send(request(chatBody('#mock:stall'))), { code: 'upstream_timeout' })
  const broken = streamOf(await provider.send(request(chatBody('#mock:error_after=2', { stream: true }))))
  await assert.rejects(collect(broken.events), { code: 'upstream_error' })
  const stalled = streamOf(await provider.send(request(chatBody('#mock:stall=2', { stream: true }))))
  await assert.rejects(collect(stalled.events), { code: 'upstream_timeout' })
})

test('an aborted signal stops the stream at once', async () => {
  const controller = new AbortController()
  const slow = createMockProvider(mockUpstreamConfig({ mock: { chunk_interval_ms: 10_000 } }))
  const response = streamOf(await slow.send(request(chatBody('hi', { stream: true }), controller.signal)))
  const started = performance.now()
  setTimeout(() => { controller.abort() }, 20)
  await assert.rejects(collect(response.events), { name: 'GatewayError' })
  assert.ok(performance.now() - started < 1_000)
})
