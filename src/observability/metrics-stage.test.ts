import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RequestContext } from '../pipeline/context.ts'
import type { Provider } from '../upstream/provider.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { createMetricsRegistry, type GatewayMetrics } from './metrics-registry.ts'
import { createMetricsStages, type MetricsStages } from './metrics-stage.ts'
import { createModelLabeler } from './metrics-labels.ts'
import { parsePrometheusText, sumOf, type PromSample } from './prometheus-text-fixture.ts'

const provider = { name: 'up', type: 'openai' } as unknown as Provider

function setup (): { metrics: GatewayMetrics, stages: MetricsStages, scrape: () => Promise<PromSample[]> } {
  const metrics = createMetricsRegistry({ processMetrics: false })
  const stages = createMetricsStages({ metrics, modelLabel: createModelLabeler({ exact: ['gpt-4o'], prefixes: [] }) })
  return { metrics, stages, scrape: async () => parsePrometheusText(await metrics.render()) }
}

function forwardedContext (signal = new AbortController().signal): RequestContext {
  const ctx = newRequestContext({ requestId: 'req_1', endpoint: 'chat.completions', method: 'POST', headers: {}, socketIp: '127.0.0.1', rawBody: '{}', signal, log: silentLog })
  ctx.model = 'gpt-4o'
  ctx.route = { upstream: 'up', upstreamModel: 'gpt-4o', provider }
  return ctx
}

test('a client that went away counts as 499 client_closed, not as an upstream failure', async () => {
  const { stages, scrape } = setup()
  const controller = new AbortController()
  const ctx = forwardedContext(controller.signal)
  await stages.upstreamTimer.onRequest?.(ctx)
  controller.abort()
  ctx.status = 502
  ctx.error = 'upstream_error'
  await stages.observe.onComplete?.(ctx)
  const samples = await scrape()
  assert.equal(sumOf(samples, 'portcullis_requests_total', { status: '499', error: 'client_closed', model: 'gpt-4o' }), 1)
  assert.equal(sumOf(samples, 'portcullis_requests_total', { status: '502' }), 0)
  assert.equal(sumOf(samples, 'portcullis_upstream_errors_total'), 0)
})

test('a failed upstream call counts an upstream error and its time as upstream latency', async () => {
  const { stages, scrape } = setup()
  const ctx = forwardedContext()
  await stages.upstreamTimer.onRequest?.(ctx)
  await sleep(20)
  ctx.status = 504
  ctx.error = 'upstream_timeout'
  await stages.observe.onComplete?.(ctx)
  const samples = await scrape()
  assert.equal(sumOf(samples, 'portcullis_upstream_errors_total', { upstream: 'up', code: 'upstream_timeout' }), 1)
  const upstream = sumOf(samples, 'gen_ai_client_operation_duration_seconds_sum', { error_type: 'upstream_timeout' })
  assert.ok(upstream >= 0.015, `upstream ${upstream} s`)
  assert.ok(sumOf(samples, 'portcullis_gateway_overhead_seconds_sum') < upstream)
  assert.equal(sumOf(samples, 'gen_ai_client_token_usage_count'), 0, 'no usage, no token observation')
})

test('a stream: time to first token from its first event, upstream time until its last, the rest is overhead', async () => {
  const { stages, scrape } = setup()
  const ctx = forwardedContext()
  await stages.upstreamTimer.onRequest?.(ctx)
  ctx.ttfbMs = performance.now() - ctx.startedAt
  ctx.upstream = { kind: 'stream', status: 200, events: (async function * () {})(), usage: () => null, headers: {} }
  ctx.status = 200
  await sleep(10)
  const event = { event: null, data: '{}', json: {} }
  assert.equal(stages.observe.onChunk?.(ctx, event), event, 'events pass through unchanged')
  await sleep(30)
  stages.observe.onChunk?.(ctx, event)
  await sleep(25)
  ctx.usage = { inputTokens: 12, outputTokens: 7 }
  ctx.costMicroUsd = 19
  await stages.observe.onComplete?.(ctx)
  const samples = await scrape()
  const ttft = sumOf(samples, 'gen_ai_server_time_to_first_token_seconds_sum')
  const upstream = sumOf(samples, 'gen_ai_client_operation_duration_seconds_sum')
  const total = sumOf(samples, 'gen_ai_server_request_duration_seconds_sum')
  const overhead = sumOf(samples, 'portcullis_gateway_overhead_seconds_sum')
  assert.ok(ttft >= 0.008 && ttft < upstream, `ttft ${ttft} s, upstream ${upstream} s`)
  assert.ok(upstream >= 0.035, `upstream ${upstream} s`)
  assert.ok(overhead >= 0.02, `the 25 ms after the last event are the gateway's: ${overhead} s`)
  assert.ok(Math.abs(total - upstream - overhead) < 1e-6)
  assert.equal(sumOf(samples, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input' }), 12)
  assert.equal(sumOf(samples, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' }), 7)
  assert.equal(sumOf(samples, 'portcullis_cost_usd_total', { model: 'gpt-4o' }), 0.000019)
})

test('a request refused before routing is counted once, with no GenAI observations', async () => {
  const { stages, scrape } = setup()
  const ctx = forwardedContext()
  ctx.route = null
  ctx.status = 429
  ctx.error = 'rate_limit_exceeded'
  ctx.limitRefusal = 'tokens'
  await stages.observe.onComplete?.(ctx)
  const samples = await scrape()
  assert.equal(sumOf(samples, 'portcullis_requests_total', { status: '429', error: 'rate_limit_exceeded' }), 1)
  assert.equal(sumOf(samples, 'portcullis_limit_refusals_total', { kind: 'tokens' }), 1)
  assert.equal(sumOf(samples, 'gen_ai_server_request_duration_seconds_count'), 0)
  assert.equal(sumOf(samples, 'portcullis_gateway_overhead_seconds_count'), 0)
})
