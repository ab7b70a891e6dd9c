/**
 * Micro-benchmark of the request metrics: ns per observation with prom-client's own instruments
 * (label object hashed and validated on every call) against the lean series of
 * metrics-instruments.ts, and ns per request for the whole metrics stage completion of a
 * forwarded JSON request (nine observations).
 *
 *   node src/observability/bench-metrics.ts [--iterations 1000000]
 *
 * Not part of the test run. Numbers quoted in docs must come from this script's output.
 */
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { Counter, Histogram, Registry } from 'prom-client'
import type { Provider } from '../upstream/provider.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { createMetricsRegistry } from './metrics-registry.ts'
import { createMetricsStages } from './metrics-stage.ts'
import { createModelLabeler } from './metrics-labels.ts'

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '1000000' } } })
const iterations = Number(values.iterations)
if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error('--iterations must be a positive integer')

function nsPer (fn: (i: number) => void, n = iterations): number {
  for (let i = 0; i < Math.min(n, 10_000); i++) fn(i)
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn(i)
  return Number(process.hrtime.bigint() - started) / n
}

const buckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
const registry = new Registry()
const promCounter = new Counter({ name: 'c_total', help: 'c', labelNames: ['endpoint', 'status', 'model', 'error'], registers: [registry] })
const promHistogram = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['op', 'provider', 'model', 'error_type'], buckets, registers: [registry] })
const counterLabels = { endpoint: 'chat.completions', status: '200', model: 'gpt-4o', error: '' }
const histogramLabels = { op: 'chat', provider: 'openai', model: 'gpt-4o', error_type: '' }

const lean = createMetricsRegistry({ processMetrics: false })
const results: Record<string, number> = {
  prom_client_counter_inc_ns: nsPer(() => { promCounter.inc(counterLabels) }),
  prom_client_histogram_observe_ns: nsPer((i) => { promHistogram.observe(histogramLabels, (i % 97) / 10) }),
  lean_counter_inc_ns: nsPer(() => { lean.requests.at('chat.completions', '200', 'gpt-4o', '').inc() }),
  lean_histogram_observe_ns: nsPer((i) => { lean.serverDuration.at('chat', 'openai', 'gpt-4o', '').observe((i % 97) / 10) })
}

const stages = createMetricsStages({ metrics: lean, modelLabel: createModelLabeler({ exact: ['gpt-4o'], prefixes: ['gpt-'] }) })
const provider = { name: 'up', type: 'openai' } as unknown as Provider
const signal = new AbortController().signal
const contexts = Array.from({ length: 1024 }, (_, i) => {
  const ctx = newRequestContext({ requestId: `req_${i}`, endpoint: 'chat.completions', method: 'POST', headers: {}, socketIp: '127.0.0.1', rawBody: '{}', signal, log: silentLog })
  ctx.model = 'gpt-4o'
  ctx.route = { upstream: 'up', upstreamModel: 'gpt-4o', provider }
  ctx.upstream = { kind: 'json', status: 200, body: {}, usage: null, headers: {} }
  ctx.ttfbMs = 1
  ctx.status = 200
  ctx.usage = { inputTokens: 20, outputTokens: 10 }
  ctx.costMicroUsd = 30
  return ctx
})
results.stage_per_request_ns = nsPer((i) => {
  const ctx = contexts[i & 1023] as (typeof contexts)[number]
  void stages.upstreamTimer.onRequest?.(ctx)
  void stages.observe.onComplete?.(ctx)
}, Math.min(iterations, 200_000))

process.stdout.write(JSON.stringify({ node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, iterations, ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])) }, null, 2) + '\n')
