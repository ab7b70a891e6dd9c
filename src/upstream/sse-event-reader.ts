import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { SseEvent } from './provider.ts'

/** Largest event (or unterminated line) buffered before the stream is refused; OpenAI chunks are a few hundred bytes. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024

/** Thrown when the upstream byte stream is not a usable event stream. */
export class SseProtocolError extends Error {
  override name = 'SseProtocolError'
}

/**
 * An event whose JSON is parsed on first access: most chunks of a stream are passed through
 * untouched, and parsing each one cost ~4 % of CPU on the streaming path (profiled).
 */
class UpstreamSseEvent implements SseEvent {
  event: string | null
  data: string
  #json: unknown = undefined
  #parsed = false
  #mentionsUsage: boolean | undefined = undefined

  constructor (data: string, event: string | null) {
    this.data = data
    this.event = event
  }

  get json (): unknown {
    if (!this.#parsed) {
      this.#parsed = true
      this.#json = parseJsonPayload(this.data)
    }
    return this.#json
  }

  set json (value: unknown) {
    this.#parsed = true
    this.#json = value
  }

  /** Whether the text mentions `"usage"`, computed once for the provider and the forward stage. */
  get mentionsUsage (): boolean {
    this.#mentionsUsage ??= this.data.includes('"usage"')
    return this.#mentionsUsage
  }
}

function parseJsonPayload (data: string): unknown {
  // '[DONE]' and other non-JSON sentinels never start with { or [ followed by JSON; skip the throw cost.
  const first = data.charCodeAt(0)
  if (first !== 0x7b && (first !== 0x5b || data === '[DONE]')) return undefined
  try {
    return JSON.parse(data)
  } catch {
    return undefined
  }
}

/** Builds an SseEvent; `json` (parsed lazily) is undefined for `[DONE]` and any payload that is not JSON. */
export function toSseEvent (data: string, event: string | null = null): SseEvent {
  return new UpstreamSseEvent(data, event)
}

/** Cheap pre-check before parsing: only a chunk whose text mentions usage can carry it. */
export function mayCarryUsage (event: SseEvent): boolean {
  return event instanceof UpstreamSseEvent ? event.mentionsUsage : event.data.includes('"usage"')
}

/**
 * Decodes an upstream `text/event-stream` body into events (WHATWG HTML §9.2.6, "Interpreting
 * an event stream"), using eventsource-parser. Bytes are decoded as UTF-8 in streaming mode so a
 * multi-byte character split across reads survives. Returning early (consumer `return()`, a thrown
 * error) closes the source iterator, which destroys the upstream body.
 */
export async function * readSseEvents (source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent[], void, undefined> {
  const pending: SseEvent[] = []
  const state: { failure: Error | null } = { failure: null }
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (message: EventSourceMessage) => {
      pending.push(toSseEvent(message.data, message.event ?? null))
    },
    onError: (err) => {
      if (err.type === 'max-buffer-size-exceeded') state.failure = new SseProtocolError('event stream buffer limit exceeded')
    }
  })
  const decoder = new TextDecoder('utf-8')
  for await (const chunk of source) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
    if (state.failure !== null) throw state.failure
    if (pending.length > 0) yield pending.splice(0)
  }
  // An event not terminated by a blank line when the stream ends is discarded (WHATWG §9.2.6).
  parser.feed(decoder.decode())
  if (pending.length > 0) yield pending.splice(0)
}
