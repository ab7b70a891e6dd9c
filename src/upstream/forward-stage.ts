import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { SseEvent } from './provider.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { mayCarryUsage } from './sse-event-reader.ts'

/** Per-request link between the client's signal and the upstream request. */
interface UpstreamLink {
  readonly controller: AbortController
  readonly onClientAbort: () => void
  /** The stream ran to `[DONE]`: the upstream request is complete and needs no abort. */
  done: boolean
}

// Given as the abort reason so releasing an upstream builds no DOMException with a stack on
// every request (measured ~5 % of CPU on the streaming path).
const released = Object.freeze(new Error('upstream released by the gateway'))

/**
 * Sends the request to the routed provider and passes its answer on. Streams always ask the
 * upstream for usage (`stream_options.include_usage`) so budgets can be settled; when the client
 * did not ask, the usage chunk is dropped and `usage` fields are stripped, so it gets exactly
 * what it asked for.
 */
export function createForwardStage (): Stage {
  const links = new WeakMap<RequestContext, UpstreamLink>()

  return {
    name: 'forward',
    async onRequest (ctx) {
      const route = ctx.route
      if (route === null || ctx.endpoint === 'models') {
        throw new GatewayError('internal_error', { cause: new Error('forward stage reached without a route') })
      }
      const body: Record<string, unknown> = { ...ctx.body, model: route.upstreamModel }
      if (ctx.stream && ctx.endpoint !== 'embeddings') {
        const clientOptions = body.stream_options
        body.stream_options = { ...(isObject(clientOptions) ? clientOptions : {}), include_usage: true }
      }
      // Our own controller, so completion can release an upstream stream nobody consumed
      // (a later stage refused the response head) as well as follow a client disconnect.
      const controller = new AbortController()
      const onClientAbort = (): void => { controller.abort(ctx.signal.reason) }
      if (ctx.signal.aborted) onClientAbort()
      else ctx.signal.addEventListener('abort', onClientAbort, { once: true })
      links.set(ctx, { controller, onClientAbort, done: false })
      const response = await route.provider.send({
        endpoint: ctx.endpoint, body, stream: ctx.stream, signal: controller.signal, requestId: ctx.requestId
      })
      ctx.ttfbMs = performance.now() - ctx.startedAt
      ctx.upstream = response
      // Set now rather than at completion: completion runs in reverse stage order.
      if (response.kind === 'json') ctx.usage = response.usage
    },

    onChunk (ctx, event) {
      if (event.data === '[DONE]') {
        const link = links.get(ctx)
        if (link !== undefined) link.done = true
        return event
      }
      if (!mayCarryUsage(event)) return event
      const chunk = event.json
      if (!isObject(chunk) || !('usage' in chunk)) return event
      const response = ctx.upstream
      if (chunk.usage !== null && response?.kind === 'stream') ctx.usage = response.usage() ?? ctx.usage
      if (ctx.clientWantsUsage) return event
      if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return null
      return withoutUsage(event, chunk)
    },

    onComplete (ctx) {
      const link = links.get(ctx)
      if (link === undefined) return
      links.delete(ctx)
      ctx.signal.removeEventListener('abort', link.onClientAbort)
      const response = ctx.upstream
      if (response?.kind !== 'stream') return
      // An aborted stream reports what the upstream produced before the end.
      ctx.usage = response.usage() ?? ctx.usage
      if (!link.done) link.controller.abort(released)
    }
  }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Some vLLM versions put `usage` on every chunk; a client that did not ask gets none. */
function withoutUsage (event: SseEvent, chunk: Record<string, unknown>): SseEvent {
  const { usage: _usage, ...rest } = chunk
  return { event: event.event, data: JSON.stringify(rest), json: rest }
}
