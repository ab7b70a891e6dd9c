/**
 * What a streamed response produced, tracked cheaply, for the case where it ends without the
 * upstream's usage (the client went away, the upstream broke off). Keeping or parsing every event
 * until the end doubled the gateway's CPU per stream (garbage collection of retained strings), so
 * only two numbers are kept: the characters of all event data and the number of events; the JSON
 * envelope around the text is measured once, on the first event. The estimate bills 3 characters
 * per token — more tokens than any tokenizer finds in ordinary text — so an aborted stream is
 * never under-billed by the approximation.
 */
export interface StreamedOutput {
  chars: number
  events: number
  /** Characters of one event that are not text (measured on the first event); null until then. */
  envelope: number | null
}

export function newStreamedOutput (): StreamedOutput {
  return { chars: 0, events: 0, envelope: null }
}

const charsPerToken = 3

/**
 * Records one event's raw data. O(1) once the envelope is known; until the first event that
 * carries text (the role-only opening chunk has none), events are parsed and text-less ones skipped.
 */
export function addStreamedEvent (out: StreamedOutput, data: string): void {
  if (data === '[DONE]') return
  if (out.envelope === null) {
    const envelope = envelopeOf(data)
    if (envelope === null) return
    out.envelope = envelope
  }
  out.chars += data.length
  out.events++
}

/** Estimated output tokens of what was streamed. */
export function streamedOutputTokens (out: StreamedOutput): number {
  const text = out.chars - out.events * (out.envelope ?? 0)
  return text <= 0 ? 0 : Math.ceil(text / charsPerToken)
}

/** Characters of the event that are not text; null when it carries no text at all. */
function envelopeOf (data: string): number | null {
  let event: unknown
  try {
    event = JSON.parse(data)
  } catch {
    return 0
  }
  let text = 0
  const choices = (event as { choices?: unknown }).choices
  if (Array.isArray(choices)) {
    for (const choice of choices) {
      const c = choice as { text?: unknown, delta?: { content?: unknown } } | null
      if (typeof c?.text === 'string') text += JSON.stringify(c.text).length - 2
      if (typeof c?.delta?.content === 'string') text += JSON.stringify(c.delta.content).length - 2
    }
  }
  return text === 0 ? null : Math.max(0, data.length - text)
}
