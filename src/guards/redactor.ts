import type { Finding } from './finding.ts'

/**
 * Replaces detected values with typed placeholders (`[EMAIL_1]`, `[SECRET_OPENAI_1]`) and, when
 * the policy says `restore`, puts the originals back into the response for the same caller, so
 * the upstream model never sees them but the caller's experience is unchanged.
 *
 * One redactor per request: its vault (placeholder ↔ original) lives only as long as the request
 * and is never logged or shared. The same value gets the same placeholder within the request,
 * so the model can still tell that two mentions are the same person.
 */
export interface Redactor {
  /**
   * Returns `text` with every finding replaced by its placeholder. Finding offsets are absolute:
   * `text` starts at `offset` in the whole (0 for a complete text; the chunk offset in a
   * stream). Overlapping findings are merged into one placeholder typed after the first.
   */
  redact (text: string, findings: readonly Finding[], offset?: number): string
  /** Replaces placeholders this redactor issued with their originals; others are left alone. */
  restore (text: string): string
  /** A restorer for streamed output, where a placeholder may arrive split across chunks. */
  createStreamRestorer (): StreamRestorer
  /** How many distinct values are in the vault. */
  readonly size: number
}

export interface StreamRestorer {
  /** Restored text that can be sent now; a possible partial placeholder is held back. */
  push (delta: string): string
  /** Everything still held back, restored. */
  end (): string
}

/** `secret.openai` → `SECRET_OPENAI`. */
export function placeholderLabel (type: string): string {
  return type.toUpperCase().replace(/[^A-Z0-9]+/g, '_')
}

/** Sorted, non-overlapping spans; an overlap extends the earlier finding (type of the first). */
export function mergeOverlaps (findings: readonly Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end)
  const merged: Finding[] = []
  for (const f of sorted) {
    const last = merged[merged.length - 1]
    if (last !== undefined && f.start < last.end) {
      if (f.end > last.end) merged[merged.length - 1] = { ...last, end: f.end }
    } else {
      merged.push(f)
    }
  }
  return merged
}

export function createRedactor (): Redactor {
  const byValue = new Map<string, string>()
  const byPlaceholder = new Map<string, string>()
  const counters = new Map<string, number>()
  let longest = 0

  function placeholderFor (type: string, value: string): string {
    const key = type + '\u0000' + value
    const known = byValue.get(key)
    if (known !== undefined) return known
    const label = placeholderLabel(type)
    const n = (counters.get(label) ?? 0) + 1
    counters.set(label, n)
    const placeholder = `[${label}_${n}]`
    byValue.set(key, placeholder)
    byPlaceholder.set(placeholder, value)
    longest = Math.max(longest, placeholder.length)
    return placeholder
  }

  function redact (text: string, findings: readonly Finding[], offset = 0): string {
    if (findings.length === 0) return text
    let out = ''
    let at = 0
    for (const f of mergeOverlaps(findings)) {
      const start = Math.max(f.start - offset, at)
      const end = Math.min(f.end - offset, text.length)
      if (end <= start) continue
      out += text.slice(at, start) + placeholderFor(f.type, text.slice(start, end))
      at = end
    }
    return out + text.slice(at)
  }

  function restore (text: string): string {
    if (byPlaceholder.size === 0) return text
    let out = ''
    let at = 0
    let close = -1
    for (let open = text.indexOf('['); open !== -1; open = text.indexOf('[', open + 1)) {
      if (close < open) close = text.indexOf(']', open)
      if (close === -1) break
      if (close - open >= longest) continue
      const value = byPlaceholder.get(text.slice(open, close + 1))
      if (value === undefined) continue
      out += text.slice(at, open) + value
      at = close + 1
      open = close
    }
    return out + text.slice(at)
  }

  function createStreamRestorer (): StreamRestorer {
    let pending = ''
    return {
      push (delta) {
        const text = pending + delta
        const hold = partialPlaceholderStart(text, longest)
        pending = text.slice(hold)
        return restore(text.slice(0, hold))
      },
      end () {
        const rest = restore(pending)
        pending = ''
        return rest
      }
    }
  }

  return { redact, restore, createStreamRestorer, get size () { return byPlaceholder.size } }
}

const placeholderPrefix = /^\[[A-Z0-9_]*$/

/** Where a trailing `[LABEL_…` that could still become a placeholder begins, else text.length. */
function partialPlaceholderStart (text: string, longest: number): number {
  const open = text.lastIndexOf('[')
  if (open === -1 || text.length - open >= longest) return text.length
  return placeholderPrefix.test(text.slice(open)) ? open : text.length
}
