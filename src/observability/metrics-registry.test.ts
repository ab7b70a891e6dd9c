import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMetricsRegistry } from './metrics-registry.ts'
import { createModelLabeler } from './metrics-labels.ts'
import { parsePrometheusText, samplesOf, sumOf } from './prometheus-text-fixture.ts'

test('histograms expose cumulative buckets, +Inf, _sum and _count in the Prometheus format', async () => {
  const metrics = createMetricsRegistry({ processMetrics: false })
  const series = metrics.overhead.at('chat.completions')
  for (const seconds of [0.0002, 0.0004, 0.003, 5]) series.observe(seconds)
  const text = await metrics.render()
  assert.match(text, /# TYPE portcullis_gateway_overhead_seconds histogram/)
  const samples = parsePrometheusText(text)
  const bucket = (le: string): number => sumOf(samples, 'portcullis_gateway_overhead_seconds_bucket', { endpoint: 'chat.completions', le })
  assert.equal(bucket('0.0001'), 0)
  assert.equal(bucket('0.00025'), 1)
  assert.equal(bucket('0.0005'), 2)
  assert.equal(bucket('0.005'), 3)
  assert.equal(bucket('1'), 3)
  assert.equal(bucket('+Inf'), 4)
  assert.equal(sumOf(samples, 'portcullis_gateway_overhead_seconds_count', { endpoint: 'chat.completions' }), 4)
  assert.ok(Math.abs(sumOf(samples, 'portcullis_gateway_overhead_seconds_sum') - 5.0036) < 1e-9)
})

test('a value equal to a bucket bound falls into that bucket (le is inclusive)', async () => {
  const metrics = createMetricsRegistry({ processMetrics: false })
  metrics.tokenUsage.at('chat', 'openai', 'gpt-4o', 'input').observe(16)
  const samples = parsePrometheusText(await metrics.render())
  assert.equal(sumOf(samples, 'gen_ai_client_token_usage_bucket', { le: '4' }), 0)
  assert.equal(sumOf(samples, 'gen_ai_client_token_usage_bucket', { le: '16' }), 1)
})

test('counters keep one series per label set and add fractional amounts', async () => {
  const metrics = createMetricsRegistry({ processMetrics: false })
  metrics.requests.at('embeddings', '200', 'text-embedding-3-small', '').inc()
  metrics.requests.at('embeddings', '200', 'text-embedding-3-small', '').inc()
  metrics.requests.at('embeddings', '429', 'text-embedding-3-small', 'rate_limit_exceeded').inc()
  metrics.cost.at('gpt-4o').inc(0.000125)
  metrics.cost.at('gpt-4o').inc(0.5)
  const samples = parsePrometheusText(await metrics.render())
  assert.equal(samplesOf(samples, 'portcullis_requests_total').length, 2)
  assert.equal(sumOf(samples, 'portcullis_requests_total', { status: '200', error: '' }), 2)
  assert.equal(sumOf(samples, 'portcullis_requests_total', { status: '429', error: 'rate_limit_exceeded' }), 1)
  assert.equal(sumOf(samples, 'portcullis_cost_usd_total', { model: 'gpt-4o' }), 0.500125)
})

test('each registry is its own: two gateways in one process never share a series', async () => {
  const a = createMetricsRegistry({ processMetrics: true })
  const b = createMetricsRegistry({ processMetrics: true })
  a.limitRefusals.at('budget').inc()
  assert.equal(sumOf(parsePrometheusText(await a.render()), 'portcullis_limit_refusals_total', { kind: 'budget' }), 1)
  assert.equal(sumOf(parsePrometheusText(await b.render()), 'portcullis_limit_refusals_total'), 0)
  assert.match(await a.render(), /^process_cpu_seconds_total \d/m, 'process metrics under their standard names')
})

test('guard verdict labels stay bounded: odd or excess values become "other"', async () => {
  const metrics = createMetricsRegistry({ processMetrics: false })
  metrics.guardVerdict('pii', 'redact')
  metrics.guardVerdict('pii', 'redact')
  metrics.guardVerdict('sk-LIVE SECRET"value', 'block')
  for (let i = 0; i < 100; i++) metrics.guardVerdict(`detector_${i}`, 'flag')
  const samples = parsePrometheusText(await metrics.render())
  assert.equal(sumOf(samples, 'portcullis_guard_verdicts_total', { detector: 'pii', action: 'redact' }), 2)
  assert.equal(sumOf(samples, 'portcullis_guard_verdicts_total', { detector: 'other', action: 'block' }), 1)
  const detectors = new Set(samplesOf(samples, 'portcullis_guard_verdicts_total').map((s) => s.labels.detector))
  assert.ok(detectors.size <= 65, `${detectors.size} detector values`)
  assert.equal(sumOf(samples, 'portcullis_guard_verdicts_total'), 103)
})

test('audit gauges are read from the writer status at scrape time', async () => {
  let status: { pending: number, healthy: boolean, writeFailures: number } | null = null
  const metrics = createMetricsRegistry({ processMetrics: false, auditStatus: () => status })
  let samples = parsePrometheusText(await metrics.render())
  assert.equal(sumOf(samples, 'portcullis_audit_queue_depth'), 0)
  status = { pending: 42, healthy: false, writeFailures: 3 }
  samples = parsePrometheusText(await metrics.render())
  assert.equal(sumOf(samples, 'portcullis_audit_queue_depth'), 42)
  assert.equal(sumOf(samples, 'portcullis_audit_writer_healthy'), 0)
  assert.equal(sumOf(samples, 'portcullis_audit_write_failures_total'), 3)
  status = { pending: 0, healthy: true, writeFailures: 5 }
  samples = parsePrometheusText(await metrics.render())
  assert.equal(sumOf(samples, 'portcullis_audit_write_failures_total'), 5, 'the counter follows the writer, not a sum of scrapes')
  assert.equal(sumOf(samples, 'portcullis_audit_writer_healthy'), 1)
})

test('model labels: configured exact names, the pattern of a prefix route, else "other"', () => {
  const label = createModelLabeler({ exact: ['gpt-4o', 'mock-gpt'], prefixes: ['mock-', 'qwen2.5-'] })
  assert.equal(label('gpt-4o'), 'gpt-4o')
  assert.equal(label('mock-gpt'), 'mock-gpt')
  assert.equal(label('mock-anything-a-caller-invents'), 'mock-*')
  assert.equal(label('qwen2.5-72b'), 'qwen2.5-*')
  assert.equal(label('gpt-4o-mini'), 'other')
  assert.equal(label(null), '')
})
