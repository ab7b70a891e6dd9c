import type { Detector, Finding } from './finding.ts'
import type { Redactor } from './redactor.ts'

/**
 * Scans streamed text (SSE content deltas) with the same detectors as a complete text, so a
 * secret or an e-mail split across two chunks is still caught and can be redacted before the
 * client sees any part of it.
 *
 * The scanner passes text on as soon as no match can still start in it, and holds back a tail:
 * - the last `window` characters (the largest detector window: spaced values and their context);
 * - plus the trailing run of non-space characters, up to the largest `maxTokenLength` (a key or
 *   JWT still arriving);
 * - plus, back to its start, any finding that reaches into the held tail (an open PEM block).
 * The tail never exceeds `maxHoldBack`; if it would, the finding crossing the limit is redacted
 * up to it (fail closed) rather than passed on in part.
 * Each push rescans only the held tail plus `window` characters of context, so the cost per
 * chunk is bounded and a whole stream is scanned in linear time.
 */
export interface ScannedChunk {
  /** Original text that may be passed on now; it starts at `offset` in the stream. */
  readonly text: string
  readonly offset: number
  /** Findings lying wholly inside this chunk, with absolute stream offsets. */
  readonly findings: readonly Finding[]
}

export interface StreamScanner {
  push (delta: string): ScannedChunk
  /** Flushes the held tail at the end of the stream. */
  end (): ScannedChunk
}

export interface StreamScannerOptions {
  /** Upper bound on held-back characters. Default 8192 + the largest window. */
  readonly maxHoldBack?: number
}

export const defaultMaxHoldBack = 8192

export function createStreamScanner (detectors: readonly Detector[], options: StreamScannerOptions = {}): StreamScanner {
  const window = Math.max(0, ...detectors.map(d => d.window))
  const maxToken = Math.max(window, ...detectors.map(d => d.maxTokenLength ?? d.window))
  const maxHoldBack = options.maxHoldBack ?? defaultMaxHoldBack + window
  let context = ''
  let held = ''
  let emitted = 0

  function detect (): Finding[] {
    const base = emitted - context.length
    const text = context + held
    const found: Finding[] = []
    for (const detector of detectors) {
      for (const f of detector.detect(text)) {
        if (f.start + base >= emitted) found.push({ ...f, start: f.start + base, end: f.end + base })
      }
    }
    return found.sort((a, b) => a.start - b.start || b.end - a.end)
  }

  function emit (upTo: number, findings: readonly Finding[]): ScannedChunk {
    const text = held.slice(0, upTo - emitted)
    const offset = emitted
    const inside = findings.filter(f => f.start < upTo).map(f => f.end > upTo ? { ...f, end: upTo } : f)
    held = held.slice(upTo - emitted)
    context = window === 0 ? '' : (context + text).slice(-window)
    emitted = upTo
    return { text, offset, findings: inside }
  }

  return {
    push (delta) {
      held += delta
      const end = emitted + held.length
      const floor = end - maxHoldBack
      let upTo = Math.min(end - window, emitted + trailingTokenStart(held, maxToken))
      if (upTo <= emitted) return emit(emitted, [])
      const findings = detect()
      upTo = Math.max(backOffCrossing(upTo, findings), floor, emitted)
      return emit(upTo, findings)
    },
    end () {
      return emit(emitted + held.length, held.length === 0 ? [] : detect())
    }
  }
}

/** Moves the emit point back to the start of any finding that crosses it, until none does. */
function backOffCrossing (upTo: number, findings: readonly Finding[]): number {
  let point = upTo
  for (let changed = true; changed;) {
    changed = false
    for (const f of findings) {
      if (f.start < point && f.end > point) {
        point = f.start
        changed = true
      }
    }
  }
  return point
}

/**
 * Start (index into `text`) of the trailing run of characters that could belong to a token:
 * anything but white space and CJK ideographs/kana/hangul/CJK punctuation, capped at `max`.
 */
function trailingTokenStart (text: string, max: number): number {
  let i = text.length
  const limit = Math.max(0, text.length - max)
  while (i > limit && isTokenChar(text.charCodeAt(i - 1))) i--
  return i
}

function isTokenChar (c: number): boolean {
  if (c <= 32) return false
  if (c < 0x2000) return c !== 0x85 && c !== 0xa0 && c !== 0x1680
  if (c <= 0x200a || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f) return false
  return !((c >= 0x2e80 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff))
}

/**
 * Scanner plus redaction: each push returns the chunk as the client may see it. With `restore`,
 * the same redactor puts values back into a response later; here it only hides them.
 */
export function redactChunk (chunk: ScannedChunk, redactor: Redactor): string {
  return redactor.redact(chunk.text, chunk.findings, chunk.offset)
}
