import type { RequestContext } from './context.ts'
import type { ResponseSink } from './response-sink.ts'
import type { Stage } from './stage.ts'
import type { SseEvent } from '../upstream/provider.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { toGatewayError } from '../errors/serialize-error.ts'

/**
 * Runs one request through the stages and writes the response to the sink.
 * The only place (with the server edge) that catches and serializes errors.
 */
export async function runPipeline (ctx: RequestContext, stages: readonly Stage[], sink: ResponseSink): Promise<void> {
  try {
    for (const stage of stages) {
      if (stage.onRequest !== undefined) {
        const pending = stage.onRequest(ctx)
        if (pending !== undefined) await pending
      }
      if (ctx.upstream !== null) break
    }
    const response = ctx.upstream
    if (response === null) throw new GatewayError('internal_error', { cause: new Error('no stage produced a response') })
    ctx.status = response.status
    for (const stage of stages) {
      if (stage.onResponseHead !== undefined) {
        const pending = stage.onResponseHead(ctx)
        if (pending !== undefined) await pending
      }
    }
    if (response.kind === 'json') {
      sink.sendJson(response.status, mergeHeaders(ctx.responseHeaders, response.headers), response.body)
      return
    }
    await streamEvents(ctx, stages, response.events, sink, mergeHeaders(ctx.responseHeaders, response.headers), response.status)
  } catch (err) {
    const gatewayError = toGatewayError(err)
    ctx.status = gatewayError.status
    ctx.error = gatewayError.code
    if (gatewayError.code === 'internal_error') ctx.log.error({ err, request_id: ctx.requestId }, 'request failed')
    // Why a token failed stays out of the response (no oracle) but helps the operator; the
    // reasons are fixed texts from the verifier, never token content.
    else if (gatewayError.code === 'invalid_token' && ctx.log.isLevelEnabled('debug')) {
      ctx.log.debug({ request_id: ctx.requestId, reason: reasonOf(gatewayError.cause) }, 'access token refused')
    }
    if (sink.streamStarted) sink.endStreamWithError(gatewayError)
    else sink.sendError(gatewayError, mergeHeaders(ctx.responseHeaders, gatewayError.headers))
  } finally {
    await completeStages(ctx, stages)
    // Built only when someone reads it: this runs on every request.
    if (ctx.log.isLevelEnabled('debug')) logCompletion(ctx)
  }
}

function reasonOf (cause: unknown): string {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : 'unknown'
  return text.slice(0, 200)
}

function logCompletion (ctx: RequestContext): void {
  ctx.log.debug({
    request_id: ctx.requestId,
    endpoint: ctx.endpoint,
    model: ctx.model,
    status: ctx.status,
    error: ctx.error,
    key_id: ctx.principal?.keyId ?? null,
    client_id: ctx.principal?.clientId ?? null,
    client_ip: ctx.clientIp,
    latency_ms: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
    ttfb_ms: ctx.ttfbMs === null ? null : Math.round(ctx.ttfbMs * 1000) / 1000
  }, 'request completed')
}

const chunkStagesCache = new WeakMap<readonly Stage[], Stage[]>()

async function streamEvents (
  ctx: RequestContext, stages: readonly Stage[], events: AsyncIterable<readonly SseEvent[]>,
  sink: ResponseSink, headers: Record<string, string>, status: number
): Promise<void> {
  let chunkStages = chunkStagesCache.get(stages)
  if (chunkStages === undefined) {
    chunkStages = stages.filter((s) => s.onChunk !== undefined || s.onStreamEnd !== undefined)
    chunkStagesCache.set(stages, chunkStages)
  }
  sink.startStream(status, headers)
  let ended = false
  for await (const batch of events) {
    // The events of one upstream read are handled without an await between them.
    let pending: void | Promise<void> = undefined
    for (const incoming of batch) {
      if (!ended && incoming.data === '[DONE]') {
        ended = true
        pending = endOfStream(ctx, chunkStages, sink) ?? pending
      }
      // Keep a drain promise even if a later write in the batch returns none.
      pending = passEvent(ctx, chunkStages, 0, incoming, sink) ?? pending
    }
    if (pending !== undefined) await pending
  }
  if (!ended) await endOfStream(ctx, chunkStages, sink)
  sink.endStream()
}

/** Runs `incoming` through the chunk stages from `from` on and writes what comes out. */
function passEvent (ctx: RequestContext, chunkStages: readonly Stage[], from: number, incoming: SseEvent, sink: ResponseSink): void | Promise<void> {
  let event: SseEvent | null = incoming
  for (let i = from; i < chunkStages.length && event !== null; i++) {
    const onChunk = (chunkStages[i] as Stage).onChunk
    if (onChunk !== undefined) event = onChunk(ctx, event)
  }
  if (event !== null) return sink.writeEvent(event)
}

/** Each stage's `onStreamEnd` events, passed through the stages after it. */
function endOfStream (ctx: RequestContext, chunkStages: readonly Stage[], sink: ResponseSink): void | Promise<void> {
  let pending: void | Promise<void> = undefined
  for (let i = 0; i < chunkStages.length; i++) {
    const extra = (chunkStages[i] as Stage).onStreamEnd?.(ctx)
    if (extra == null) continue
    for (const event of extra) pending = passEvent(ctx, chunkStages, i + 1, event, sink) ?? pending
  }
  return pending
}

/**
 * Runs every stage's `onComplete` in reverse order, each isolated from the others' failures.
 * Exported for requests the server refused before the pipeline ran (they are recorded too).
 */
export async function completeStages (ctx: RequestContext, stages: readonly Stage[]): Promise<void> {
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i] as Stage
    if (stage.onComplete === undefined) continue
    try {
      const pending = stage.onComplete(ctx)
      if (pending !== undefined) await pending
    } catch (err) {
      ctx.log.error({ err, stage: stage.name, request_id: ctx.requestId }, 'stage completion failed')
    }
  }
}

function mergeHeaders (a: Record<string, string>, b: Record<string, string> | undefined): Record<string, string> {
  if (b === undefined) return a
  for (const k in a) return { ...a, ...b }
  return b
}
