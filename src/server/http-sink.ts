import type { ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { ResponseSink } from '../pipeline/response-sink.ts'
import type { GatewayError } from '../errors/gateway-error.ts'
import type { SseEvent } from '../upstream/provider.ts'
import { errorBody, errorEvent } from '../errors/serialize-error.ts'
import { edgeHeaders } from './security-headers.ts'

const jsonType = 'application/json; charset=utf-8'
const streamHeaders = Object.freeze({ 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' })

/**
 * Writes pipeline output straight to Node's ServerResponse. The proxy routes hand the
 * response over to the pipeline (Fastify `reply.hijack()`), so Fastify's onSend hook does not
 * run: the sink sends the request id and the security headers itself, in the one object given
 * to `writeHead` (nothing is set on `res` before, which keeps Node on its direct path: one
 * validation per header instead of setHeader, lower-casing and a merge for each).
 */
export class HttpSink implements ResponseSink {
  #res: ServerResponse
  #streamStarted = false
  #pending = ''
  #bodyWritten = false
  #requestId: string

  constructor (res: ServerResponse, requestId: string) {
    this.#res = res
    this.#requestId = requestId
  }

  get streamStarted (): boolean {
    return this.#streamStarted
  }

  sendJson (status: number, headers: Record<string, string>, body: unknown): void {
    this.#sendBody(status, headers, JSON.stringify(body))
  }

  sendError (err: GatewayError, headers: Record<string, string>): void {
    this.#sendBody(err.status, headers, JSON.stringify(errorBody(err)))
  }

  startStream (status: number, headers: Record<string, string>): void {
    if (this.#res.destroyed) return
    this.#streamStarted = true
    this.#res.writeHead(status, edgeHeaders(this.#requestId, headers, streamHeaders))
    // The head leaves with the first events when they are already here (one write instead of
    // two: the separate head write was ~9 % of streaming CPU); otherwise right after this turn
    // of the event loop, so a client waiting on a slow first token sees the stream open at once.
    setImmediate(flushHeadIfIdle, this)
  }

  /** Sends the response head alone if no event went out with it (see startStream). */
  flushHead (): void {
    const res = this.#res
    if (!this.#bodyWritten && !res.destroyed && !res.writableEnded) res.flushHeaders()
  }

  writeEvent (event: SseEvent): void | Promise<void> {
    if (this.#res.destroyed) return
    const head = event.event === null ? 'data: ' : `event: ${event.event}\ndata: `
    // WHATWG SSE: every line of a multi-line payload needs its own `data:` field.
    const data = event.data.includes('\n') ? event.data.replaceAll('\n', '\ndata: ') : event.data
    // Events that arrive in one upstream read leave in one write (one chunk, one syscall): they
    // are joined until the current batch of microtasks is done. Events that arrive apart are not
    // delayed. Measured: per-event writes cost ~20 % of CPU on a 17-event stream.
    if (this.#pending === '') process.nextTick(flushPending, this)
    this.#pending += head + data + '\n\n'
    if (this.#res.writableNeedDrain) return this.#drain()
  }

  /** Writes the events joined since the last flush (see writeEvent). */
  flushPending (): void {
    const pending = this.#pending
    if (pending === '') return
    this.#pending = ''
    this.#bodyWritten = true
    if (!this.#res.destroyed) this.#res.write(pending)
  }

  endStreamWithError (err: GatewayError): void {
    this.flushPending()
    if (this.#res.destroyed) return
    this.#res.end(errorEvent(err))
  }

  endStream (): void {
    this.flushPending()
    if (!this.#res.destroyed) this.#res.end()
  }

  #sendBody (status: number, headers: Record<string, string>, body: string): void {
    const res = this.#res
    if (res.destroyed || res.headersSent) return
    res.writeHead(status, edgeHeaders(this.#requestId, headers, { 'content-type': jsonType, 'content-length': Buffer.byteLength(body) }))
    res.end(body)
  }

  async #drain (): Promise<void> {
    const res = this.#res
    // Resolve on 'close' too: a client that went away must not park the pipeline forever.
    await Promise.race([once(res, 'drain'), once(res, 'close')])
  }
}

function flushPending (sink: HttpSink): void {
  sink.flushPending()
}

function flushHeadIfIdle (sink: HttpSink): void {
  sink.flushHead()
}
