import type { Endpoint } from '../pipeline/context.ts'
import { GatewayError } from '../errors/gateway-error.ts'

/** The facts the gateway itself reads from a proxy body; everything else passes through. */
export interface ProxyRequestFacts {
  body: Record<string, unknown> | null
  model: string | null
  stream: boolean
  clientWantsUsage: boolean
}

/** The field each endpoint cannot do without, as the OpenAI API defines it. */
const requiredInput: Record<Exclude<Endpoint, 'models'>, string> = {
  'chat.completions': 'messages',
  completions: 'prompt',
  embeddings: 'input'
}

function invalid (param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { param, message })
}

/**
 * Checks the fields the gateway authorises and routes on. Only these are validated here; the
 * upstream validates the rest, so new provider parameters pass without a gateway release.
 */
export function readProxyRequest (endpoint: Endpoint, body: unknown): ProxyRequestFacts {
  if (endpoint === 'models') return { body: null, model: null, stream: false, clientWantsUsage: false }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', { message: 'The request body must be a JSON object.' })
  }
  const record = body as Record<string, unknown>
  const model = record.model
  if (typeof model !== 'string' || model.length === 0 || model.length > 256) {
    throw invalid('model', 'model must be a non-empty string of at most 256 characters.')
  }
  const input = requiredInput[endpoint]
  if (record[input] === undefined || record[input] === null) throw invalid(input, `${input} is required.`)
  if (endpoint === 'chat.completions' && !Array.isArray(record.messages)) throw invalid('messages', 'messages must be an array.')

  const stream = record.stream ?? false
  if (typeof stream !== 'boolean') throw invalid('stream', 'stream must be a boolean.')
  if (stream && endpoint === 'embeddings') throw invalid('stream', 'embeddings cannot be streamed.')
  const options = record.stream_options
  let clientWantsUsage = false
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) throw invalid('stream_options', 'stream_options must be an object.')
    const include = (options as Record<string, unknown>).include_usage
    if (include !== undefined && typeof include !== 'boolean') throw invalid('stream_options.include_usage', 'include_usage must be a boolean.')
    clientWantsUsage = include === true
  }
  return { body: record, model, stream, clientWantsUsage }
}
