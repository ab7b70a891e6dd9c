import { setTimeout as sleep } from 'node:timers/promises'
import type { UpstreamConfig } from '../../config/config-schema.ts'
import type { Provider, ProviderRequest, SseEvent, UpstreamResponse, UpstreamUsage } from '../provider.ts'
import { GatewayError } from '../../errors/gateway-error.ts'
import { errorForTransport, errorForUpstreamStatus } from '../upstream-error-map.ts'
import { usageOf } from '../upstream-usage.ts'
import { planMockResponse, type MockPlan, type MockSettings } from './mock-engine.ts'
import { chunkSerializer, type MockStream } from './mock-replies.ts'

const DONE: SseEvent = Object.freeze({ event: null, data: '[DONE]', json: undefined })

/**
 * The built-in mock provider, in process (no HTTP): the same answers and directives as the mock
 * upstream server, with the same failure semantics a real upstream would produce — a latency
 * beyond `timeouts.headers_ms` or a silence beyond `timeouts.idle_ms` is a 504, a broken stream a 502.
 */
export function createMockProvider (config: UpstreamConfig): Provider {
  const settings: MockSettings = {
    latencyMs: config.mock.latency_ms,
    chunkIntervalMs: config.mock.chunk_interval_ms,
    failureRate: config.mock.failure_rate
  }
  const { headers_ms: headersMs, idle_ms: idleMs } = config.timeouts

  async function send (request: ProviderRequest): Promise<UpstreamResponse> {
    const plan = planMockResponse(request.endpoint, request.body, settings)
    const { signal } = request
    if (plan.stream === null && plan.stallAfter !== null) {
      await wait(headersMs, signal)
      throw new GatewayError('upstream_timeout', { cause: new Error('mock: #mock:stall before the head') })
    }
    await wait(Math.min(plan.latencyMs, headersMs), signal)
    if (plan.latencyMs > headersMs) throw new GatewayError('upstream_timeout', { cause: new Error('mock: latency beyond headers_ms') })
    if (plan.stream === null && plan.breakAfter !== null) {
      throw new GatewayError('upstream_error', { cause: new Error('mock: #mock:error_after before the head') })
    }
    if (plan.status !== 200) throw errorForUpstreamStatus(plan.status, plan.status === 429 ? '1' : null, plan.body)
    if (plan.stream === null) return { kind: 'json', status: 200, body: plan.body, usage: plan.usage, headers: { 'x-portcullis-mock': 'true' } }
    let usage: UpstreamUsage | null = null
    const events = streamEvents(plan, plan.stream, signal, idleMs, (seen) => { usage = seen })
    return { kind: 'stream', status: 200, events, usage: () => usage, headers: { 'x-portcullis-mock': 'true' } }
  }

  return { name: config.name, type: 'mock', send, close: async () => {} }
}

async function * streamEvents (
  plan: MockPlan, stream: MockStream, signal: AbortSignal, idleMs: number, onUsage: (usage: UpstreamUsage) => void
): AsyncGenerator<SseEvent[], void, undefined> {
  const serialize = chunkSerializer(stream.head)
  // Index parts.length is the final [DONE].
  for (let i = 0; i <= stream.parts.length; i++) {
    if (i === plan.breakAfter) throw new GatewayError('upstream_error', { cause: new Error('mock: #mock:error_after') })
    if (i === plan.stallAfter) {
      await wait(idleMs, signal)
      throw new GatewayError('upstream_timeout', { cause: new Error('mock: #mock:stall') })
    }
    if (i > 0 && plan.intervalMs > 0) {
      await wait(Math.min(plan.intervalMs, idleMs), signal)
      if (plan.intervalMs > idleMs) throw new GatewayError('upstream_timeout', { cause: new Error('mock: interval beyond idle_ms') })
    } else if (signal.aborted) {
      throw errorForTransport(signal.reason, signal)
    }
    const part = stream.parts[i]
    if (part === undefined) {
      yield [DONE]
      return
    }
    const usage = usageOf(part)
    if (usage !== null) onUsage(usage)
    // One event per batch: the mock paces its chunks like an upstream sending them apart.
    yield [{ event: null, data: serialize(part), json: { ...stream.head, ...part } }]
  }
}

async function wait (ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal.aborted) return
  try {
    await sleep(ms, undefined, { signal })
  } catch (err) {
    throw errorForTransport(err, signal)
  }
}
