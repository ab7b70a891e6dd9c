import { performance } from 'node:perf_hooks'
import { upstreamSchema, type UpstreamConfig } from '../config/config-schema.ts'
import type { RequestContext } from '../pipeline/context.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import type { SseEvent, UpstreamResponse } from './provider.ts'
import { silentLog } from '../pipeline/silent-log.ts'

/** Test support for src/upstream: configs, request contexts, stream collection, bounded polling. */

export { silentLog } from '../pipeline/silent-log.ts'

/** An `openai` upstream config as the schema would produce it, with test-sized timeouts. */
export function openaiUpstream (baseUrl: string, overrides: Record<string, unknown> = {}): UpstreamConfig {
  return upstreamSchema.parse({
    name: 'test-upstream',
    type: 'openai',
    base_url: baseUrl,
    timeouts: { connect_ms: 2_000, headers_ms: 2_000, idle_ms: 2_000 },
    ...overrides
  })
}

export function mockUpstreamConfig (overrides: Record<string, unknown> = {}): UpstreamConfig {
  return upstreamSchema.parse({ name: 'mock', type: 'mock', ...overrides })
}

export function testContext (overrides: Partial<RequestContext> = {}): RequestContext {
  const base = newRequestContext({
    requestId: 'req_test', endpoint: 'chat.completions', method: 'POST', headers: {}, socketIp: '127.0.0.1',
    rawBody: null, signal: new AbortController().signal, log: silentLog
  })
  return { ...base, ...overrides }
}

export function chatBody (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra }
}

/** Every event of a stream, batches flattened. */
export async function collect (events: AsyncIterable<readonly SseEvent[]>): Promise<SseEvent[]> {
  const out: SseEvent[] = []
  for await (const batch of events) out.push(...batch)
  return out
}

/** The events of a stream one by one, as a consumer that ignores batching sees them. */
export async function * eachEvent (events: AsyncIterable<readonly SseEvent[]>): AsyncGenerator<SseEvent> {
  for await (const batch of events) yield * batch
}

export function streamOf (response: UpstreamResponse): Extract<UpstreamResponse, { kind: 'stream' }> {
  if (response.kind !== 'stream') throw new Error(`expected a stream, got ${response.kind}`)
  return response
}

export function jsonOf (response: UpstreamResponse): Extract<UpstreamResponse, { kind: 'json' }> {
  if (response.kind !== 'json') throw new Error(`expected JSON, got ${response.kind}`)
  return response
}

/** The content deltas of a chat stream, joined. */
export function streamedText (events: readonly SseEvent[]): string {
  let text = ''
  for (const event of events) {
    const choice = (event.json as { choices?: Array<{ delta?: { content?: string } }> } | undefined)?.choices?.[0]
    text += choice?.delta?.content ?? ''
  }
  return text
}

/** Polls `check` until it holds, failing after `timeoutMs`. */
export async function waitFor (check: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
