import type { GatewayError } from '../errors/gateway-error.ts'
import type { SseEvent } from '../upstream/provider.ts'

/**
 * Where the pipeline writes the client response. The server adapts it to the HTTP framework;
 * the pipeline never touches framework types.
 */
export interface ResponseSink {
  /** True once a streaming response head was sent: errors must then go out as an SSE event. */
  readonly streamStarted: boolean
  sendJson (status: number, headers: Record<string, string>, body: unknown): void
  sendError (err: GatewayError, headers: Record<string, string>): void
  startStream (status: number, headers: Record<string, string>): void
  /** Resolves when the socket can take more (backpressure). */
  writeEvent (event: SseEvent): void | Promise<void>
  /** Sends one `data: {"error":…}` event and ends the stream. */
  endStreamWithError (err: GatewayError): void
  endStream (): void
}
