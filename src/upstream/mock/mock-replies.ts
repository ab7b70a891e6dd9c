/** One planned mock reply: the text as tokens, each token one stream chunk. */
export interface MockReply {
  readonly model: string
  /** Tokens with their leading whitespace; joined they give the reply text. */
  readonly pieces: readonly string[]
  /** What each stream chunk carries when not one piece per chunk (`#mock:chunk_chars`); usage still counts `pieces`. */
  readonly chunks?: readonly string[]
  readonly finishReason: 'stop' | 'length'
  readonly promptTokens: number
  /** The request asked for `stream_options.include_usage`. */
  readonly includeUsage: boolean
}

/**
 * A planned stream: the fields every chunk shares (id, object, created, model, fingerprint)
 * and what differs per chunk (`choices`, `usage`). Chunk i is `{ ...head, ...parts[i] }`.
 */
export interface MockStream {
  readonly head: object
  readonly parts: readonly object[]
}

/**
 * Serializes `{ ...head, ...part }` with the head's JSON computed once per stream: the same
 * bytes as JSON.stringify of the merged object (their keys never overlap), without re-serializing
 * the head for every chunk — chunk serialization is the mock server's main own cost when streaming.
 */
export function chunkSerializer (head: object): (part: object) => string {
  const prefix = JSON.stringify(head).slice(0, -1) + ','
  return (part) => prefix + JSON.stringify(part).slice(1)
}

const FINGERPRINT = 'portcullis-mock'

let sequence = 0

function nextId (prefix: string): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER
  return `${prefix}-mock-${sequence.toString(36).padStart(8, '0')}`
}

function usageOf (reply: MockReply): object {
  const completion = reply.pieces.length
  return { prompt_tokens: reply.promptTokens, completion_tokens: completion, total_tokens: reply.promptTokens + completion }
}

function header (reply: MockReply, prefix: string, object: string): { id: string, object: string, created: number, model: string, system_fingerprint: string } {
  return { id: nextId(prefix), object, created: Math.floor(Date.now() / 1000), model: reply.model, system_fingerprint: FINGERPRINT }
}

/** `POST /v1/chat/completions` without streaming. */
export function mockChatBody (reply: MockReply): object {
  return {
    ...header(reply, 'chatcmpl', 'chat.completion'),
    choices: [{
      index: 0,
      message: { role: 'assistant', content: reply.pieces.join(''), refusal: null },
      logprobs: null,
      finish_reason: reply.finishReason
    }],
    usage: usageOf(reply)
  }
}

/**
 * The chat stream as OpenAI frames it: a role chunk, one chunk per token, a finish chunk, then —
 * only with `stream_options.include_usage` — a usage chunk whose `choices` is empty.
 * (OpenAI also puts `usage: null` on every other chunk in that mode; the mock omits it, as SDKs
 * treat absent and null alike, so the gateway need not rewrite every chunk.)
 */
export function mockChatChunks (reply: MockReply): MockStream {
  const part = (delta: object, finishReason: string | null): object =>
    ({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })
  const parts = [part({ role: 'assistant', content: '', refusal: null }, null)]
  for (const piece of reply.chunks ?? reply.pieces) parts.push(part({ content: piece }, null))
  parts.push(part({}, reply.finishReason))
  if (reply.includeUsage) parts.push({ choices: [], usage: usageOf(reply) })
  return { head: header(reply, 'chatcmpl', 'chat.completion.chunk'), parts }
}

/** `POST /v1/completions` (legacy) without streaming. */
export function mockCompletionBody (reply: MockReply): object {
  return {
    ...header(reply, 'cmpl', 'text_completion'),
    choices: [{ text: reply.pieces.join(''), index: 0, logprobs: null, finish_reason: reply.finishReason }],
    usage: usageOf(reply)
  }
}

/** The legacy completions stream: one chunk per token, a finish chunk, the optional usage chunk. */
export function mockCompletionChunks (reply: MockReply): MockStream {
  const part = (text: string, finishReason: string | null): object =>
    ({ choices: [{ text, index: 0, logprobs: null, finish_reason: finishReason }] })
  const parts: object[] = []
  for (const piece of reply.chunks ?? reply.pieces) parts.push(part(piece, null))
  parts.push(part('', reply.finishReason))
  if (reply.includeUsage) parts.push({ choices: [], usage: usageOf(reply) })
  return { head: header(reply, 'cmpl', 'text_completion'), parts }
}
