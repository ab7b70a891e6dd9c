import type { IncomingHttpHeaders } from 'node:http'
import type { Endpoint, Logger, RequestContext } from './context.ts'

/** What the server knows about a request before any stage ran. */
export interface RequestContextInit {
  readonly requestId: string
  readonly endpoint: Endpoint
  readonly method: string
  readonly headers: IncomingHttpHeaders
  readonly socketIp: string
  readonly rawBody: string | null
  readonly signal: AbortSignal
  readonly log: Logger
  /** performance.now() at arrival; default now. */
  readonly startedAt?: number
}

/** A fresh context with every stage-owned field empty. The only place the full shape is spelled out. */
export function newRequestContext (init: RequestContextInit): RequestContext {
  return {
    requestId: init.requestId,
    startedAt: init.startedAt ?? performance.now(),
    receivedAt: new Date(),
    endpoint: init.endpoint,
    method: init.method,
    headers: init.headers,
    socketIp: init.socketIp,
    clientIp: init.socketIp,
    rawBody: init.rawBody,
    body: null,
    model: null,
    stream: false,
    clientWantsUsage: false,
    principal: null,
    route: null,
    upstream: null,
    usage: null,
    costMicroUsd: null,
    ttfbMs: null,
    limitRefusal: null,
    metadata: null,
    guards: null,
    sample: null,
    responseHeaders: {},
    status: 0,
    error: null,
    signal: init.signal,
    log: init.log
  }
}
