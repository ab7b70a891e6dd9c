import { adjustForFamily, countRawTokens, isSpace, jsonText, tokenizerFamily } from './estimate-tokens.ts'

/**
 * Counts the output of a response locally, event by event, so a stream that is cut before the
 * upstream reports usage (client abort, upstream failure) is still billed for what it produced.
 *
 * Text is kept per choice and per kind (content, reasoning, refusal, each tool call's arguments)
 * so separate texts never merge into one token, and tokenized in batches of ~FLUSH_CHARS cut at
 * a word boundary, where the tokenizer splits anyway: the count equals tokenizing each text whole
 * (exactly, for OpenAI models, except in runs of 128+ characters without a space), and each
 * character is tokenized once — linear overall. The few tokens of chat formatting around a reply
 * (end of message, tool-call framing) are not counted.
 */

export interface StreamOutputCounter {
  /**
   * Adds one event's parsed JSON: a chat chunk (`choices[].delta`), a completions chunk
   * (`choices[].text`), or a whole non-streamed body (`choices[].message`). Anything else,
   * including usage-only chunks and malformed events, adds nothing. Never throws.
   */
  add (eventData: unknown): void
  /** Output tokens so far (the non-OpenAI approximation applied, as for prompts). */
  tokens (): number
}

const FLUSH_CHARS = 4096
/** How far back a flush looks for a word boundary; past it the batch is cut where it stands. */
const BOUNDARY_WINDOW = 256
/** Distinct texts tracked; more (hostile `index` values) share one bucket. */
const MAX_BUCKETS = 256
/** Text fields of a chat delta or message; `reasoning_content`/`reasoning` carry billed reasoning (DeepSeek, vLLM, OpenRouter). */
const TEXT_FIELDS = ['content', 'refusal', 'reasoning_content', 'reasoning'] as const

function record (value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
}

/** The last index ≥ from where a space follows a non-space (a tokenizer split point), or -1. */
function lastBoundary (text: string, from: number): number {
  for (let i = text.length - 1; i > from && i > 0; i--) {
    if (text.charCodeAt(i) === 32 && !isSpace(text.charCodeAt(i - 1))) return i
  }
  return -1
}

/** Counts output tokens for `model` (see tokenizerFamily for the tokenizer it picks). */
export function createStreamOutputCounter (model: string): StreamOutputCounter {
  const family = tokenizerFamily(model)
  const pending = new Map<string, string>()
  let raw = 0
  let chars = 0

  function append (key: string, value: unknown): void {
    if (value === undefined || value === null) return
    const text = typeof value === 'string' ? value : jsonText(value)
    if (text.length === 0) return
    chars += text.length
    const bucket = pending.has(key) || pending.size < MAX_BUCKETS ? key : 'overflow'
    let buffered = (pending.get(bucket) ?? '') + text
    if (buffered.length >= FLUSH_CHARS) {
      const cut = lastBoundary(buffered, buffered.length - BOUNDARY_WINDOW)
      const end = cut > 0 ? cut : buffered.length
      raw += countRawTokens(family, buffered.slice(0, end))
      buffered = buffered.slice(end)
    }
    pending.set(bucket, buffered)
  }

  function addChoice (choice: Record<string, unknown>, position: number): void {
    const index = typeof choice.index === 'number' && Number.isSafeInteger(choice.index) ? choice.index : position
    if (choice.text !== undefined) append(`${index}:text`, choice.text)
    const delta = record(choice.delta) ?? record(choice.message)
    if (delta === null) return
    for (const name of TEXT_FIELDS) append(`${index}:${name}`, delta[name])
    const call = record(delta.function_call)
    if (call !== null) {
      append(`${index}:function`, call.name)
      append(`${index}:function`, call.arguments)
    }
    if (!Array.isArray(delta.tool_calls)) return
    delta.tool_calls.forEach((item: unknown, i: number) => {
      const tool = record(item)
      const fn = record(tool?.function)
      if (tool === null || fn === null) return
      const key = `${index}:tool:${typeof tool.index === 'number' && Number.isSafeInteger(tool.index) ? tool.index : i}`
      append(key, fn.name)
      append(key, fn.arguments)
    })
  }

  return {
    add (eventData: unknown): void {
      const choices = record(eventData)?.choices
      if (!Array.isArray(choices)) return
      choices.forEach((item: unknown, position: number) => {
        const choice = record(item)
        if (choice !== null) addChoice(choice, position)
      })
    },
    tokens (): number {
      let total = raw
      for (const text of pending.values()) total += countRawTokens(family, text)
      return adjustForFamily(family, total, chars)
    }
  }
}
