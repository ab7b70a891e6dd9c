import type { Endpoint } from '../../pipeline/context.ts'
import type { UpstreamUsage } from '../provider.ts'
import { parseMockDirectives, stripMockDirectives, type MockDirectives } from './mock-directives.ts'
import { DEFAULT_MOCK_DIMENSIONS, MAX_MOCK_DIMENSIONS, embeddingInputs, encodeVector, mockVector } from './mock-embeddings.ts'
import { mockChatBody, mockChatChunks, mockCompletionBody, mockCompletionChunks, type MockReply, type MockStream } from './mock-replies.ts'

export type MockEndpoint = Exclude<Endpoint, 'models'>

/** Timing and failure knobs from config (`mock.*`) or the mock server's options. */
export interface MockSettings {
  readonly latencyMs: number
  readonly chunkIntervalMs: number
  readonly failureRate: number
}

/** Everything a transport (in-process provider or HTTP server) needs to play one mock answer. */
export interface MockPlan {
  /** 200, or the error status a directive or the failure rate chose. */
  readonly status: number
  readonly latencyMs: number
  readonly intervalMs: number
  /** Chunks sent before the connection breaks (`#mock:error_after`), else null. */
  readonly breakAfter: number | null
  /** Chunks sent before the upstream goes silent (`#mock:stall`), else null. */
  readonly stallAfter: number | null
  /** The JSON body: the response, or an OpenAI error envelope. */
  readonly body: object
  /** The stream's chunks, without the final `[DONE]`; null when not streaming or on error. */
  readonly stream: MockStream | null
  readonly usage: UpstreamUsage | null
}

/** Without `max_tokens` or `#mock:tokens`, a reply (which echoes the prompt) stops here. */
const DEFAULT_REPLY_LIMIT = 4096
const PREFIX = 'This is a mock reply from Portcullis. You said: '
const FILLER = ' lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.match(/\s*\S+/g) as string[]

/**
 * Plans the deterministic, OpenAI-shaped answer to one request: text that echoes the last user
 * message, usage counted in the mock's tokens (whitespace-separated words), the stream split
 * one token per chunk exactly as OpenAI frames it.
 */
export function planMockResponse (endpoint: MockEndpoint, body: Record<string, unknown>, settings: MockSettings): MockPlan {
  const request = readRequest(endpoint, body)
  const directives = parseMockDirectives(request.lastText)
  const base = {
    latencyMs: directives.latencyMs ?? settings.latencyMs,
    intervalMs: directives.intervalMs ?? settings.chunkIntervalMs,
    breakAfter: directives.errorAfter,
    stallAfter: directives.stallAfter
  }
  const failedStatus = request.invalidParam !== null
    ? 400
    : directives.status ?? (settings.failureRate > 0 && Math.random() < settings.failureRate ? 500 : null)
  if (failedStatus !== null) {
    return { ...base, status: failedStatus, body: mockErrorBody(failedStatus, request.invalidParam), stream: null, usage: null }
  }
  if (endpoint === 'embeddings') return { ...base, status: 200, ...embeddingsAnswer(body, request.inputs ?? []) }
  const reply = buildReply(body, request.lastText, request.promptTokens, directives)
  const usage = { inputTokens: reply.promptTokens, outputTokens: reply.pieces.length }
  const chat = endpoint === 'chat.completions'
  if (body.stream !== true) return { ...base, status: 200, body: chat ? mockChatBody(reply) : mockCompletionBody(reply), stream: null, usage }
  return { ...base, status: 200, body: {}, stream: chat ? mockChatChunks(reply) : mockCompletionChunks(reply), usage }
}

/** Mock tokens: runs of non-space characters. Cheap, deterministic and consistent with the chunks. */
export function countMockTokens (text: string): number {
  let count = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const space = c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11
    if (!space && !inWord) count++
    inWord = !space
  }
  return count
}

/** OpenAI's error envelope for a mock failure. */
export function mockErrorBody (status: number, param: string | null = null): object {
  const type = status === 429 ? 'rate_limit_error' : status < 500 ? 'invalid_request_error' : 'server_error'
  const message = param === null ? `Mock failure (HTTP ${status}).` : `Missing or invalid "${param}".`
  return { error: { message, type, param, code: null } }
}

interface ReadRequest {
  lastText: string
  promptTokens: number
  inputs: string[] | null
  invalidParam: string | null
}

function readRequest (endpoint: MockEndpoint, body: Record<string, unknown>): ReadRequest {
  if (endpoint === 'chat.completions') {
    const messages = body.messages
    if (!Array.isArray(messages) || messages.length === 0) return { lastText: '', promptTokens: 0, inputs: null, invalidParam: 'messages' }
    let lastText = ''
    let promptTokens = 0
    for (const message of messages) {
      const text = contentText((message as { content?: unknown } | null)?.content)
      promptTokens += countMockTokens(text)
      if ((message as { role?: unknown } | null)?.role === 'user') lastText = text
    }
    return { lastText, promptTokens, inputs: null, invalidParam: null }
  }
  const inputs = endpoint === 'embeddings' ? embeddingInputs(body.input) : embeddingInputs(body.prompt ?? '')
  if (inputs === null) return { lastText: '', promptTokens: 0, inputs: null, invalidParam: endpoint === 'embeddings' ? 'input' : 'prompt' }
  let promptTokens = 0
  for (const input of inputs) promptTokens += countMockTokens(input)
  return { lastText: inputs[inputs.length - 1] ?? '', promptTokens, inputs, invalidParam: null }
}

/** Message content as text: a string, or the `text` parts of a content array. */
function contentText (content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let text = ''
  for (const part of content) {
    const value = (part as { text?: unknown } | null)?.text
    if (typeof value === 'string') text += (text === '' ? '' : '\n') + value
  }
  return text
}

function buildReply (body: Record<string, unknown>, lastText: string, promptTokens: number, directives: Readonly<MockDirectives>): MockReply {
  const echo = stripMockDirectives(lastText)
  const natural = (PREFIX + (echo === '' ? '(nothing)' : echo)).match(/\s*\S+/g) as string[]
  const target = directives.tokens ?? Math.min(natural.length, DEFAULT_REPLY_LIMIT)
  const pieces = natural.slice(0, target)
  for (let i = 0; pieces.length < target; i++) pieces.push(FILLER[i % FILLER.length] as string)
  const limit = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens)
  const truncated = limit !== null && pieces.length > limit
  if (truncated) pieces.length = limit
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined
  return {
    model: typeof body.model === 'string' ? body.model : 'mock-gpt',
    pieces,
    ...(directives.chunkChars === null ? {} : { chunks: splitEvery(pieces.join(''), directives.chunkChars) }),
    finishReason: truncated ? 'length' : 'stop',
    promptTokens,
    includeUsage: streamOptions?.include_usage === true
  }
}

function embeddingsAnswer (body: Record<string, unknown>, inputs: string[]): Pick<MockPlan, 'body' | 'stream' | 'usage'> {
  const dimensions = positiveInt(body.dimensions) ?? DEFAULT_MOCK_DIMENSIONS
  let promptTokens = 0
  const data = inputs.map((input, index) => {
    promptTokens += countMockTokens(input)
    const embedding = encodeVector(mockVector(input, Math.min(dimensions, MAX_MOCK_DIMENSIONS)), body.encoding_format)
    return { object: 'embedding', index, embedding }
  })
  const model = typeof body.model === 'string' ? body.model : 'mock-embedding'
  const usage = { prompt_tokens: promptTokens, total_tokens: promptTokens }
  return { body: { object: 'list', data, model, usage }, stream: null, usage: { inputTokens: promptTokens, outputTokens: 0 } }
}

/** `text` in pieces of `size` characters (the last may be shorter). */
function splitEvery (text: string, size: number): string[] {
  const chunks: string[] = []
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
  return chunks
}

function positiveInt (value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null
}
