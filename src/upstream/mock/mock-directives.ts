/**
 * Directives a caller writes into the last user message (or prompt, or embeddings input) to
 * drive the mock provider through a real gateway. They are stripped from the echoed text.
 *
 * | directive | effect |
 * |---|---|
 * | `#mock:status=N` | answer with HTTP N (400–599) and an OpenAI error envelope (429 carries `retry-after: 1`) |
 * | `#mock:latency=MS` | wait MS before the response head (overrides `mock.latency_ms`) |
 * | `#mock:interval=MS` | wait MS between streamed chunks (overrides `mock.chunk_interval_ms`) |
 * | `#mock:error_after=N` | send N stream chunks (the role chunk counts), then break the connection; without streaming, break it before the head |
 * | `#mock:stall` / `#mock:stall=N` | send N chunks (default 1), then go silent without closing; without streaming, never send the head |
 * | `#mock:tokens=N` | the reply is exactly N tokens (before `max_tokens` truncation) |
 * | `#mock:chunk_chars=N` | stream the reply in chunks of N characters instead of one token per chunk (a value split across chunks, for output-guard tests); usage still counts tokens |
 */
export interface MockDirectives {
  status: number | null
  latencyMs: number | null
  intervalMs: number | null
  errorAfter: number | null
  stallAfter: number | null
  tokens: number | null
  chunkChars: number | null
}

/** Bounds keep a directive from turning the mock into a resource sink. */
const MAX_DELAY_MS = 600_000
const MAX_TOKENS = 100_000

const DIRECTIVE = /#mock:([a-z_]+)(?:=(\d{1,9}))?/g

export const noDirectives: Readonly<MockDirectives> = Object.freeze({
  status: null, latencyMs: null, intervalMs: null, errorAfter: null, stallAfter: null, tokens: null, chunkChars: null
})

/** Reads every `#mock:` directive in `text`; unknown names and out-of-range values are ignored. */
export function parseMockDirectives (text: string): Readonly<MockDirectives> {
  if (!text.includes('#mock:')) return noDirectives
  const found: MockDirectives = { ...noDirectives }
  for (const [, name, raw] of text.matchAll(DIRECTIVE)) {
    const value = raw === undefined ? null : Number(raw)
    switch (name) {
      case 'status':
        if (value !== null && value >= 400 && value <= 599) found.status = value
        break
      case 'latency':
        if (value !== null) found.latencyMs = Math.min(value, MAX_DELAY_MS)
        break
      case 'interval':
        if (value !== null) found.intervalMs = Math.min(value, MAX_DELAY_MS)
        break
      case 'error_after':
        found.errorAfter = value ?? 0
        break
      case 'stall':
        found.stallAfter = value ?? 1
        break
      case 'tokens':
        if (value !== null) found.tokens = Math.min(value, MAX_TOKENS)
        break
      case 'chunk_chars':
        if (value !== null && value > 0) found.chunkChars = value
        break
    }
  }
  return found
}

/** The text without its directives, as the mock echoes it. */
export function stripMockDirectives (text: string): string {
  return text.includes('#mock:') ? text.replace(DIRECTIVE, '').trim() : text.trim()
}
