import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base'
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base'
import type { Endpoint } from '../pipeline/context.ts'
import type { TokenCountCache } from './token-count-cache.ts'

// Prompt token estimates for reservations, before the upstream is called: OpenAI models with their
// own BPE (exact for text), others with an o200k-based approximation. Linear, bounded, never throws.
export type TokenizerFamily = 'o200k_base' | 'cl100k_base' | 'approximate'

// Non-OpenAI tokenizers (Claude, Llama, Qwen, Mistral, DeepSeek …) usually need more tokens than o200k,
// one of the most compact vocabularies, for the same text. 15 % covers the usual gap; the reservation
// settles to the upstream's reported usage anyway, so this only sizes the reservation.
export const APPROXIMATION_FACTOR = 1.15
const CHARS_PER_TOKEN_FLOOR = 4 // the rule of thumb: ~4 characters a token in English
/**
 * OpenAI's cookbook (How to count tokens with tiktoken): `<|start|>{role/name}\n{content}<|end|>\n`
 * costs 3 tokens a message plus 1 for a `name`; the reply is primed with `<|start|>assistant<|message|>`.
 */
const TOKENS_PER_MESSAGE = 3
const TOKENS_PER_NAME = 1
const REPLY_PRIMING = 3
// Images are not decoded: a flat allowance each. 85 is OpenAI's low-detail price, 765 a 1024×1024 image at
// high detail (85 + 4 tiles × 170); gpt-4o-mini counts images ~33× (2833 + 5667 a tile) at a lower price.
const IMAGE_ALLOWANCE = { low: 85, high: 765 }
const IMAGE_ALLOWANCE_GPT_4O_MINI = { low: 2833, high: 2833 + 4 * 5667 }
// Work bound: the gateway caps bodies at 1 MiB, so no honest prompt has more text. Text beyond it is
// not tokenized but counted as its UTF-8 bytes, an upper bound (a BPE token covers ≥ 1 byte).
export const MAX_TOKENIZED_CHARS = 1024 * 1024
const SEGMENT_CHARS = 4096 // per tokenizer call; cut where the tokenizer splits anyway (countRawTokens)
/**
 * The BPE merge is quadratic in the length of one pre-tokenized piece (100 000 spaces: 7.5 s), so a
 * run this long with no word boundary is cut: linear time, ~1 extra token per cut at most (measured
 * +0.7 % on minified JSON, +0.06 % on code, +0.01 % on this repository's docs).
 */
const MAX_RUN_CHARS = 128

/** `mediaTokens`: the part of `tokens` that is an allowance (images) or a bound (audio, files), not a count. */
export interface PromptEstimate { readonly tokens: number, readonly mediaTokens: number }

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() } // `<|endoftext|>` in a prompt is text

/** Which tokenizer counts for `model` (a `provider/` prefix is ignored). */
export function tokenizerFamily (model: unknown): TokenizerFamily {
  if (typeof model !== 'string') return 'approximate'
  // Asked on every request for the same few model names: remember the answers (bounded).
  const known = families.get(model)
  if (known !== undefined) return known
  const family = familyOf(model)
  if (families.size >= 1024) families.clear()
  families.set(model, family)
  return family
}

const families = new Map<string, TokenizerFamily>()

function familyOf (model: string): TokenizerFamily {
  const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase()
  if (/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-oss|codex|omni-moderation)/.test(name)) return 'o200k_base'
  if (/^(gpt-3\.5|gpt-35|gpt-4|text-embedding-|davinci-002|babbage-002)/.test(name)) return 'cl100k_base'
  return 'approximate'
}

/** Exactly the regexes' `\s` (ECMAScript WhiteSpace and LineTerminator), by UTF-16 code unit. */
export const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

function countPiece (family: TokenizerFamily, text: string): number {
  try {
    return family === 'cl100k_base' ? countCl100k(text, PLAIN_TEXT) : countO200k(text, PLAIN_TEXT)
  } catch {
    return utf8Bytes(text) // never reached in tests; a tokenizer bug must not fail a request
  }
}

/**
 * Raw BPE count of `text`, in segments. A space that follows a non-space is a split point of both
 * the o200k and cl100k pre-tokenizer regexes (no pattern can continue across it), so cutting there
 * is exact; other cuts happen only in runs longer than MAX_RUN_CHARS.
 */
export function countRawTokens (family: TokenizerFamily, text: string): number {
  if (text.length <= MAX_RUN_CHARS) return countPiece(family, text)
  let total = 0
  let start = 0
  let runStart = 0
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 32 && !isSpace(text.charCodeAt(i - 1))) {
      if (i - start >= SEGMENT_CHARS) {
        total += countPiece(family, text.slice(start, i))
        start = i
      }
      runStart = i
    } else if (i - runStart >= MAX_RUN_CHARS && !(c >= 0xdc00 && c <= 0xdfff)) { // never split a surrogate pair
      total += countPiece(family, text.slice(start, i))
      start = i
      runStart = i
    }
  }
  return total + countPiece(family, text.slice(start))
}

/** Raw tokens → the estimate: exact for OpenAI, padded and floored at chars/4 otherwise. */
export function adjustForFamily (family: TokenizerFamily, rawTokens: number, chars: number): number {
  if (family !== 'approximate') return rawTokens
  return Math.max(Math.ceil(rawTokens * APPROXIMATION_FACTOR), Math.ceil(chars / CHARS_PER_TOKEN_FLOOR))
}

/** Tokens of `text` for `model`, as estimatePromptTokens counts text (the stream counter uses it). */
export function countTextTokens (text: string, model: unknown): number {
  const family = tokenizerFamily(model)
  return adjustForFamily(family, countRawTokens(family, text), text.length)
}

/** Punctuation and keys on the jsonText stack; never confused with data (not a JSON value). */
class Literal {
  readonly text: string
  constructor (text: string) { this.text = text }
}

/**
 * JSON text of a value, iteratively (JSON.stringify overflows the stack on deeply nested input,
 * which JSON.parse accepts) and cut at `maxChars`, or when `maxChars` items wait (a cyclic object
 * can neither loop forever nor fill memory; parsed JSON of that size never has that many).
 */
export function jsonText (value: unknown, maxChars = MAX_TOKENIZED_CHARS): string {
  const out: string[] = []
  let length = 0
  const stack: unknown[] = [value]
  while (stack.length > 0 && length < maxChars && stack.length <= maxChars) {
    const item = stack.pop()
    let piece: string
    if (item instanceof Literal) {
      piece = item.text
    } else if (Array.isArray(item)) {
      stack.push(new Literal(']'))
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i], new Literal(i > 0 ? ',' : ''))
      piece = '['
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item)
      stack.push(new Literal('}'))
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string
        stack.push((item as Record<string, unknown>)[key], new Literal((i > 0 ? ',' : '') + JSON.stringify(key) + ':'))
      }
      piece = '{'
    } else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
      piece = JSON.stringify(item)
    } else {
      piece = typeof item === 'bigint' ? String(item) : 'null'
    }
    out.push(piece)
    length += piece.length
  }
  const text = out.join('')
  return text.length > maxChars ? text.slice(0, maxChars) : text
}

/** One counting function per family, made once (the cache takes a function per lookup). */
const counters: Readonly<Record<TokenizerFamily, (text: string) => number>> = {
  o200k_base: (text) => countRawTokens('o200k_base', text),
  cl100k_base: (text) => countRawTokens('cl100k_base', text),
  approximate: (text) => countRawTokens('approximate', text)
}

/** Accumulates one estimate within the work bound. */
class Tally {
  raw = 0
  chars = 0
  media = 0
  budget: number
  readonly family: TokenizerFamily
  readonly cache: TokenCountCache | null
  constructor (family: TokenizerFamily, budget: number, cache: TokenCountCache | null) {
    this.family = family
    this.budget = budget
    this.cache = cache
  }

  text (text: string): void {
    this.chars += text.length
    if (text.length > this.budget) { this.raw += utf8Bytes(text); return }
    this.budget -= text.length
    this.raw += this.cache === null ? countRawTokens(this.family, text) : this.cache.count(this.family, text, counters[this.family])
  }

  /** Strings are text; anything else is counted as its JSON text. */
  value (value: unknown): void {
    if (value === undefined || value === null) return
    this.text(typeof value === 'string' ? value : jsonText(value))
  }
}

function record (value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
}

function imageAllowance (model: unknown, part: Record<string, unknown>): number {
  const allowance = typeof model === 'string' && /(^|\/)gpt-4o-mini/i.test(model) ? IMAGE_ALLOWANCE_GPT_4O_MINI : IMAGE_ALLOWANCE
  return record(part.image_url)?.detail === 'low' ? allowance.low : allowance.high
}

function countContent (tally: Tally, content: unknown, model: unknown): void {
  if (!Array.isArray(content)) { tally.value(content); return }
  for (const item of content) {
    const part = record(item)
    if (part?.type === 'text' && typeof part.text === 'string') tally.text(part.text)
    else if (part?.type === 'refusal' && typeof part.refusal === 'string') tally.text(part.refusal)
    else if (part?.type === 'image_url') tally.media += imageAllowance(model, part)
    // Audio and files are not decoded; their bytes bound the tokens from above.
    else if (part?.type === 'input_audio' || part?.type === 'file') tally.media += utf8Bytes(jsonText(part))
    else tally.value(item)
  }
}

const renderedFields = ['tools', 'functions', 'tool_choice', 'function_call', 'response_format'] as const

function countChat (tally: Tally, body: Record<string, unknown>, model: unknown): void {
  const messages = body.messages
  if (!Array.isArray(messages)) { tally.value(messages); return }
  for (const item of messages) {
    tally.raw += TOKENS_PER_MESSAGE
    const message = record(item)
    if (message === null) { tally.value(item); continue }
    for (const field in message) {
      if (!Object.hasOwn(message, field)) continue
      const value = message[field]
      if (field === 'content') countContent(tally, value, model)
      else tally.value(value) // role, name, tool_call_id (strings); tool_calls, function_call (JSON)
      if (field === 'name' && value !== undefined && value !== null) tally.raw += TOKENS_PER_NAME
    }
  }
  tally.raw += REPLY_PRIMING
  // Definitions and schemas are rendered into the prompt; their JSON text is a close upper bound.
  for (const field of renderedFields) {
    const value = body[field]
    if (typeof value === 'object') tally.value(value)
  }
}

/** Prompt strings, or token-id arrays (one token each), alone or in a list. */
function countInputs (tally: Tally, input: unknown): void {
  if (!Array.isArray(input)) { tally.value(input); return }
  for (const item of input) {
    if (typeof item === 'number') tally.raw += 1
    else if (Array.isArray(item) && item.every((id) => typeof id === 'number')) tally.raw += item.length
    else tally.value(item)
  }
}

/**
 * Estimates prompt tokens of an OpenAI-shaped request body, media separately. Never throws:
 * fields of unexpected types are counted as their JSON text. Text past `maxTokenizedChars` is
 * counted as its UTF-8 bytes (an upper bound) instead of being tokenized. With a `cache`, texts
 * seen recently are looked up instead of tokenised again.
 */
export function estimatePrompt (endpoint: Endpoint, body: unknown, model: unknown, maxTokenizedChars = MAX_TOKENIZED_CHARS, cache: TokenCountCache | null = null): PromptEstimate {
  if (endpoint === 'models') return { tokens: 0, mediaTokens: 0 }
  const family = tokenizerFamily(model)
  const tally = new Tally(family, maxTokenizedChars, cache)
  const fields = record(body)
  if (fields === null) tally.value(body)
  else if (endpoint === 'chat.completions') countChat(tally, fields, model)
  else if (endpoint === 'embeddings') countInputs(tally, fields.input)
  else {
    countInputs(tally, fields.prompt)
    tally.value(fields.suffix)
  }
  const text = adjustForFamily(family, tally.raw, tally.chars)
  const media = family === 'approximate' ? Math.ceil(tally.media * APPROXIMATION_FACTOR) : tally.media
  return { tokens: text + media, mediaTokens: media }
}

/** Estimated prompt tokens of a request, text and media (see estimatePrompt). */
export function estimatePromptTokens (endpoint: Endpoint, body: unknown, model: unknown): number {
  return estimatePrompt(endpoint, body, model).tokens
}
