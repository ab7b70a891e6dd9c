import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { mockErrorBody, planMockResponse, type MockEndpoint, type MockPlan, type MockSettings } from './mock-engine.ts'
import { mockModelList } from './mock-models.ts'
import { chunkSerializer, type MockStream } from './mock-replies.ts'

export interface MockUpstreamOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0 (a free port). */
  readonly port?: number
  readonly latencyMs?: number
  readonly chunkIntervalMs?: number
  /** Fraction of requests answered with a 500. */
  readonly failureRate?: number
  /** When set, requests must carry `authorization: Bearer <apiKey>`, else a 401 that echoes the key received, as OpenAI does. */
  readonly apiKey?: string
  /** PEM key and certificate: serve HTTPS instead of HTTP. */
  readonly tls?: { readonly key: string, readonly cert: string }
}

/** One request as the mock saw it, so tests can assert what reached the upstream. */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body, or null. */
  readonly body: Record<string, unknown> | null
}

export interface MockUpstreamStats {
  requests: number
  /** Streams whose head was sent and that have not ended yet. */
  activeStreams: number
  /** Responses the client walked away from before their end. */
  aborted: number
  /** The most recent requests, oldest first (at most 64). */
  readonly recent: RecordedRequest[]
}

export interface MockUpstream {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:9100/v1`. */
  readonly url: string
  readonly port: number
  readonly stats: MockUpstreamStats
  /** Stops listening and cuts open connections (stalled streams included). */
  close (): Promise<void>
}

const RECENT_LIMIT = 64
const MAX_BODY_BYTES = 16 * 1024 * 1024
const ENDPOINTS: Record<string, MockEndpoint | undefined> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings'
}
const JSON_TYPE = 'application/json'
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-portcullis-mock': 'true' }
const MODELS_BODY = JSON.stringify(mockModelList())
const DONE = 'data: [DONE]\n\n'

/**
 * The mock upstream as a real OpenAI-speaking HTTP server with real SSE: the upstream of the
 * demo, of gateway tests and of the benchmark (so it does little per request and keeps
 * connections alive). Answers and `#mock:` directives come from the mock engine.
 */
export async function startMockUpstream (options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const settings: MockSettings = {
    latencyMs: options.latencyMs ?? 0,
    chunkIntervalMs: options.chunkIntervalMs ?? 0,
    failureRate: options.failureRate ?? 0
  }
  const stats: MockUpstreamStats = { requests: 0, activeStreams: 0, aborted: 0, recent: [] }
  const expectedAuth = options.apiKey === undefined ? null : `Bearer ${options.apiKey}`
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests++
    readBody(req, res, (body) => {
      const path = req.url ?? '/'
      stats.recent.push({ method: req.method ?? 'GET', path, headers: req.headers, body })
      if (stats.recent.length > RECENT_LIMIT) stats.recent.shift()
      if (expectedAuth !== null && req.headers.authorization !== expectedAuth) {
        const received = req.headers.authorization?.replace(/^Bearer /, '') ?? ''
        sendJson(res, 401, JSON.stringify({ error: { message: `Incorrect API key provided: ${received}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }))
        return
      }
      if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, MODELS_BODY)
      const endpoint = ENDPOINTS[path]
      if (req.method !== 'POST' || endpoint === undefined) return sendJson(res, 404, JSON.stringify(mockErrorBody(404)))
      if (body === null) return sendJson(res, 400, JSON.stringify(mockErrorBody(400, 'body')))
      play(planMockResponse(endpoint, body, settings), res, stats)
    })
  }
  const server: Server = options.tls === undefined
    ? createHttpServer(handler)
    : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
  // Longer than undici's client-side keep-alive, so the client always closes an idle socket first.
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => { resolve() })
  })
  const { port, address, family } = server.address() as AddressInfo
  const host = family === 'IPv6' ? `[${address}]` : address
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${port}/v1`,
    port,
    stats,
    close: () => new Promise<void>((resolve) => {
      server.close(() => { resolve() })
      server.closeAllConnections()
    })
  }
}

function readBody (req: IncomingMessage, res: ServerResponse, done: (body: Record<string, unknown> | null) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_BODY_BYTES) req.destroy()
    else chunks.push(chunk)
  })
  req.on('end', () => {
    if (chunks.length === 0) return done(null)
    try {
      const parsed: unknown = JSON.parse((chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)).toString('utf8'))
      done(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Record<string, unknown> : null)
    } catch {
      done(null)
    }
  })
  req.on('error', () => { res.destroy() })
}

function sendJson (res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), 'x-portcullis-mock': 'true', ...extra })
  res.end(body)
}

/** Plays a plan: latency, then an error, a JSON body, or the stream (with breaks and stalls). */
function play (plan: MockPlan, res: ServerResponse, stats: MockUpstreamStats): void {
  const state = { timer: null as NodeJS.Timeout | null, broken: false }
  res.once('close', () => {
    if (state.timer !== null) clearTimeout(state.timer)
    if (!res.writableFinished && !state.broken) stats.aborted++
  })
  // Stall before the head: never answer; the client's headers timeout (or abort) ends it.
  if (plan.stream === null && plan.stallAfter !== null) return
  const answer = (): void => {
    state.timer = null
    if (plan.stream === null && plan.breakAfter !== null) {
      state.broken = true
      res.destroy()
    } else if (plan.status !== 200) {
      sendJson(res, plan.status, JSON.stringify(plan.body), plan.status === 429 ? { 'retry-after': '1' } : {})
    } else if (plan.stream === null) {
      sendJson(res, 200, JSON.stringify(plan.body))
    } else {
      stream(plan, plan.stream, res, stats, state)
    }
  }
  if (plan.latencyMs > 0) state.timer = setTimeout(answer, plan.latencyMs)
  else answer()
}

function stream (
  plan: MockPlan, events: MockStream, res: ServerResponse, stats: MockUpstreamStats,
  state: { timer: NodeJS.Timeout | null, broken: boolean }
): void {
  stats.activeStreams++
  res.once('close', () => { stats.activeStreams-- })
  const serialize = chunkSerializer(events.head)
  if (plan.intervalMs === 0 && plan.breakAfter === null && plan.stallAfter === null) {
    let all = ''
    for (const part of events.parts) all += 'data: ' + serialize(part) + '\n\n'
    all += DONE
    // A length instead of chunked framing lets head and stream leave in one write.
    res.writeHead(200, { ...SSE_HEADERS, 'content-length': Buffer.byteLength(all) })
    res.end(all)
    return
  }
  res.writeHead(200, SSE_HEADERS)
  // Index parts.length is the final [DONE].
  let i = 0
  const next = (): void => {
    state.timer = null
    if (res.destroyed) return
    if (i === plan.breakAfter) {
      state.broken = true
      res.destroy()
      return
    }
    if (i === plan.stallAfter) return
    const part = events.parts[i]
    if (part === undefined) {
      res.end(DONE)
      return
    }
    res.write('data: ' + serialize(part) + '\n\n')
    i++
    if (plan.intervalMs > 0) state.timer = setTimeout(next, plan.intervalMs)
    else setImmediate(next)
  }
  next()
}
