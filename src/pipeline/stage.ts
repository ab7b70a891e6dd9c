import type { RequestContext } from './context.ts'
import type { SseEvent } from '../upstream/provider.ts'

/**
 * A pipeline stage: built once at start-up by a factory that validates its options.
 * Stages never import each other; they share facts only through typed context fields.
 *
 * Phases (all optional):
 * - `onRequest`: in order, before anything is sent upstream; throw a GatewayError to refuse.
 *   A stage that answers locally sets `ctx.upstream`; later stages' `onRequest` is then skipped.
 * - `onResponseHead`: in order, once the upstream answered (for JSON responses the whole body
 *   is available in `ctx.upstream`).
 * - `onChunk`: in order, for each streamed event; return the (possibly rewritten) event, or
 *   null to drop it. Throwing ends the stream with one error event.
 * - `onStreamEnd`: once per stream, when `[DONE]` arrives or, without one, when the upstream
 *   ends; returns events still to send (text a guard held back), written before `[DONE]` and
 *   passed through the later stages' `onChunk`. Throwing ends the stream with one error event.
 * - `onComplete`: always runs for every stage, in reverse order, even when an earlier stage
 *   refused the request — so reservations are settled and records see the final outcome.
 *   A stage learns what it did from the context (e.g. a reservation field it set). Must not throw.
 */
export interface Stage {
  readonly name: string
  onRequest?: (ctx: RequestContext) => void | Promise<void>
  onResponseHead?: (ctx: RequestContext) => void | Promise<void>
  onChunk?: (ctx: RequestContext, event: SseEvent) => SseEvent | null
  onStreamEnd?: (ctx: RequestContext) => readonly SseEvent[] | null
  onComplete?: (ctx: RequestContext) => void | Promise<void>
}
