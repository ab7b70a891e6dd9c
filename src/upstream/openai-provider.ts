import { getCACertificates } from 'node:tls'
import { Agent, type Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Provider, ProviderRequest, SseEvent, UpstreamResponse, UpstreamUsage } from './provider.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { mayCarryUsage, readSseEvents, SseProtocolError } from './sse-event-reader.ts'
import { errorForTransport, errorForUpstreamStatus } from './upstream-error-map.ts'
import { usageOf } from './upstream-usage.ts'
import { createKeyEchoCheck, keyEchoError } from './provider-key-echo.ts'

type Body = Dispatcher.ResponseData['body']

const ENDPOINT_PATHS = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings'
} as const

/** Enough for any OpenAI error envelope; the rest of a hostile error body is never read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024

export interface OpenAIProviderOptions {
  /** Extra PEM CA bundle (the config's `ca`, already resolved), added to the default roots. */
  readonly caPem?: string | null
  /** Upstream statuses are logged at debug level only. */
  readonly log?: Logger
}

/**
 * An OpenAI-compatible upstream (OpenAI, vLLM, Ollama, …) over one undici Agent.
 * Upstream headers are built fresh per request: nothing the caller sent is forwarded, so
 * client credentials and hop-by-hop headers (RFC 9110 §7.6.1) cannot leak upstream.
 */
export function createOpenAIProvider (config: UpstreamConfig, apiKey: string | null, options: OpenAIProviderOptions = {}): Provider {
  if (config.base_url === undefined) throw new Error(`upstream "${config.name}": base_url is required for type "openai"`)
  const base = new URL(config.base_url)
  const origin = base.origin
  const basePath = base.pathname.replace(/\/+$/, '')
  const authorization = apiKey === null ? null : `Bearer ${apiKey}`
  const echoesKey = createKeyEchoCheck(apiKey)
  const { log } = options
  const agent = new Agent({
    // null = unlimited: 500 long streams must not queue behind a pool.
    connections: config.max_connections,
    headersTimeout: config.timeouts.headers_ms,
    bodyTimeout: config.timeouts.idle_ms,
    connect: {
      timeout: config.timeouts.connect_ms,
      // There is deliberately no switch to turn verification off; a private CA is added instead.
      rejectUnauthorized: true,
      ...(options.caPem == null ? {} : { ca: [...getCACertificates('default'), options.caPem] })
    }
  })

  async function send (request: ProviderRequest): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: request.stream ? 'text/event-stream' : 'application/json',
      'user-agent': 'portcullis',
      'x-request-id': request.requestId
    }
    if (authorization !== null) headers.authorization = authorization
    let response: Dispatcher.ResponseData
    try {
      response = await agent.request({
        origin,
        path: basePath + ENDPOINT_PATHS[request.endpoint],
        method: 'POST',
        headers,
        body: JSON.stringify(request.body),
        signal: request.signal
      })
    } catch (err) {
      throw errorForTransport(err, request.signal)
    }
    const { statusCode, headers: upstreamHeaders, body } = response
    if (statusCode < 200 || statusCode > 299) {
      log?.debug({ upstream: config.name, status: statusCode, request_id: request.requestId }, 'upstream answered with an error status')
      const errorBody = await readErrorBody(body)
      throw errorForUpstreamStatus(statusCode, headerValue(upstreamHeaders['retry-after']), errorBody, apiKey)
    }
    const clientHeaders = labelHeaders(upstreamHeaders)
    if (headerValue(upstreamHeaders['content-type'])?.startsWith('text/event-stream') === true) {
      const onEcho = (): GatewayError => keyEchoError(config.name, request.requestId, log)
      return streamResponse(statusCode, body, request.signal, clientHeaders, echoesKey === null ? null : { echoesKey, onEcho })
    }
    let parsed: unknown
    try {
      const text = await body.text()
      if (echoesKey?.(text) === true) throw keyEchoError(config.name, request.requestId, log)
      parsed = JSON.parse(text)
    } catch (err) {
      throw errorForTransport(err, request.signal)
    }
    if (parsed === null || typeof parsed !== 'object') throw new GatewayError('upstream_error', { cause: new Error('upstream body is not a JSON object') })
    return { kind: 'json', status: statusCode, body: parsed, usage: usageOf(parsed, request.endpoint === 'embeddings'), headers: clientHeaders }
  }

  return {
    name: config.name,
    type: 'openai',
    send,
    // Called after in-flight requests drained (or their grace ran out): cut whatever is left.
    close: async () => { await agent.destroy() }
  }
}

// After `[DONE]` the upstream should end the body at once; one that holds it open is cut.
const DONE_GRACE_MS = 1000

/** Checks each stream event for our provider key before it is passed on (provider-key-echo.ts). */
interface EchoGuard { readonly echoesKey: (text: string) => boolean, readonly onEcho: () => GatewayError }

function streamResponse (status: number, body: Body, signal: AbortSignal, headers: Record<string, string>, echo: EchoGuard | null): UpstreamResponse {
  let usage: UpstreamUsage | null = null
  async function * events (): AsyncGenerator<SseEvent[], void, undefined> {
    let done = false
    let grace: NodeJS.Timeout | undefined
    try {
      for await (const batch of readSseEvents(body)) {
        if (done) continue
        let end = batch.length
        for (let i = 0; i < batch.length && !done; i++) {
          const event = batch[i] as SseEvent
          if (echo?.echoesKey(event.data) === true) throw echo.onEcho()
          if (mayCarryUsage(event)) {
            const seen = usageOf(event.json)
            if (seen !== null) usage = seen
          }
          if (event.data === '[DONE]') {
            done = true
            end = i + 1
          }
        }
        yield end === batch.length ? batch : batch.slice(0, end)
        if (done) {
          // Read on to the end instead of destroying the body: the connection stays reusable,
          // and undici builds no abort error per stream (measured ~6 % of streaming CPU).
          grace = setTimeout(() => { body.destroy() }, DONE_GRACE_MS).unref()
        }
      }
    } catch (err) {
      if (done) return
      if (err instanceof SseProtocolError) throw new GatewayError('upstream_error', { cause: err })
      throw errorForTransport(err, signal)
    } finally {
      clearTimeout(grace)
      // Consumer stopped early, abort, or error: stop reading and free the connection.
      if (!body.destroyed) body.destroy()
    }
  }
  return { kind: 'stream', status, events: events(), usage: () => usage, headers }
}

async function readErrorBody (body: Body): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      if (size >= MAX_ERROR_BODY_BYTES) break
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return null
  } finally {
    if (!body.destroyed) body.destroy()
  }
}

function headerValue (value: string | string[] | undefined): string | null {
  if (value === undefined) return null
  return Array.isArray(value) ? (value[0] ?? null) : value
}

/** Only the mock's label crosses over; other upstream headers are not copied to the client. */
function labelHeaders (headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  return headers['x-portcullis-mock'] === 'true' ? { 'x-portcullis-mock': 'true' } : {}
}
