import type { Endpoint } from '../pipeline/context.ts'

/** One server-sent event. `data` is written to the client verbatim; a stage that rewrites `json` must also rewrite `data`. */
export interface SseEvent {
  /** The `event:` field, if the upstream sent one. */
  event: string | null
  /** The `data:` payload (multi-line data joined with \n), e.g. a JSON chunk or `[DONE]`. */
  data: string
  /** `data` parsed as JSON, or undefined when it is not JSON (e.g. `[DONE]`). */
  json: unknown
}

/** Usage as reported by the upstream, already validated (non-negative integers). */
export interface UpstreamUsage {
  inputTokens: number
  outputTokens: number
}

export type UpstreamResponse =
  | {
    readonly kind: 'json'
    readonly status: number
    /** Parsed JSON body; stages may rewrite it before it is serialized to the client. */
    body: unknown
    readonly usage: UpstreamUsage | null
    /** Extra headers for the client (e.g. `x-portcullis-mock`). Upstream headers are not copied wholesale. */
    readonly headers: Record<string, string>
  }
  | {
    readonly kind: 'stream'
    readonly status: number
    /**
     * Events in arrival order, in batches: one batch per upstream read, so a consumer handles
     * the events that arrived together without an await per event. Ends after `[DONE]` or when
     * the upstream closes.
     */
    readonly events: AsyncIterable<readonly SseEvent[]>
    /**
     * Usage seen so far in the stream (from the final usage chunk); null until it arrives.
     * Read it in `onComplete`: an aborted stream reports what the upstream produced.
     */
    usage (): UpstreamUsage | null
    readonly headers: Record<string, string>
  }

export interface ProviderRequest {
  readonly endpoint: Exclude<Endpoint, 'models'>
  /** The body to send, with `model` already set to the upstream model name. */
  readonly body: Record<string, unknown>
  readonly stream: boolean
  /** Aborts the upstream request (client disconnect, shutdown). */
  readonly signal: AbortSignal
  readonly requestId: string
}

/**
 * The provider port: one adapter per upstream schema (OpenAI-compatible, mock, later Anthropic).
 * `send` maps transport failures to GatewayError (`upstream_error`, `upstream_timeout`) and
 * upstream error statuses to catalogued errors; it never lets an upstream body, URL or key
 * reach the error message.
 */
export interface Provider {
  /** The upstream name from config. */
  readonly name: string
  readonly type: 'openai' | 'mock'
  send (request: ProviderRequest): Promise<UpstreamResponse>
  /** Releases connection pools. */
  close (): Promise<void>
}
