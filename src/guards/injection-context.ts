/**
 * Where in the ORIGINAL text a hit sits, because the same words mean different things in
 * different places: inside a code block or a quotation they are usually being shown or discussed,
 * at the start of a line they can be a forged chat turn. Computed on the original text because
 * normalisation collapses line breaks.
 *
 * One linear scan; quotations are bounded in length so an unmatched quote mark cannot swallow
 * the rest of a message.
 */

/** Sorted, non-overlapping half-open spans [start, end). */
export interface Regions {
  readonly starts: number[]
  readonly ends: number[]
}

const MAX_QUOTE = 400
const PAIRS: Readonly<Record<string, string>> = { '"': '"', '“': '”', '「': '」', '『': '』', '‘': '’', '«': '»' }

export function codeRegions (text: string): Regions {
  const starts: number[] = []
  const ends: number[] = []
  const next = new NextIndex(text)
  let i = text.indexOf('`')
  while (i !== -1) {
    if (text.startsWith('```', i)) {
      const close = text.indexOf('```', i + 3)
      const end = close === -1 ? text.length : close + 3
      starts.push(i); ends.push(end)
      i = text.indexOf('`', end)
      continue
    }
    const close = text.indexOf('`', i + 1)
    if (close === -1) break
    const newline = next.after('\n', i)
    if (close - i <= MAX_QUOTE && (newline === -1 || newline > close) && !text.startsWith('```', close)) {
      starts.push(i); ends.push(close + 1)
      i = text.indexOf('`', close + 1)
    } else {
      i = close
    }
  }
  return { starts, ends }
}

function isLetterAt (text: string, index: number): boolean {
  const c = text.charCodeAt(index)
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}

/**
 * Quotations: paired marks (`"…"`, `“…”`, `「…」`, `『…』`, `‘…’`, `«…»`) and ASCII single quotes
 * that open after a non-letter and close before one, so apostrophes (`don't`) do not count.
 */
export function quoteRegions (text: string): Regions {
  const starts: number[] = []
  const ends: number[] = []
  const next = new NextIndex(text)
  const singleClosers: number[] = []
  for (let at = text.indexOf('\''); at !== -1; at = text.indexOf('\'', at + 1)) {
    if (!isLetterAt(text, at + 1)) singleClosers.push(at)
  }
  let closer = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    const close = PAIRS[ch]
    let end = -1
    if (close !== undefined) {
      const at = next.after(close, i)
      if (at !== -1 && at - i <= MAX_QUOTE) end = at + 1
    } else if (ch === '\'' && !isLetterAt(text, i - 1) && isLetterAt(text, i + 1)) {
      while (closer < singleClosers.length && (singleClosers[closer] as number) <= i) closer++
      const at = singleClosers[closer]
      if (at !== undefined && at - i <= MAX_QUOTE) end = at + 1
    }
    if (end !== -1) {
      starts.push(i); ends.push(end)
      i = end - 1
    }
  }
  return { starts, ends }
}

/** `indexOf` with a per-character cache: scanning positions only move forward, so O(n) total. */
class NextIndex {
  private readonly text: string
  private readonly cache = new Map<string, number>()
  constructor (text: string) { this.text = text }
  after (ch: string, index: number): number {
    const cached = this.cache.get(ch)
    if (cached !== undefined && (cached === -1 || cached > index)) return cached
    const found = this.text.indexOf(ch, index + 1)
    this.cache.set(ch, found)
    return found
  }
}

/** Is `index` inside one of the regions? Binary search. */
export function inRegion (regions: Regions, index: number): boolean {
  let low = 0
  let high = regions.starts.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    if ((regions.starts[mid] as number) > index) high = mid - 1
    else if ((regions.ends[mid] as number) <= index) low = mid + 1
    else return true
  }
  return false
}

/**
 * Does the original text have only markup (spaces, `#`, `>`, `*`, `-`, `[`, `【`) between the
 * previous line break (or the start) and `index`? Looks back at most 12 characters.
 */
export function atLineStart (text: string, index: number): boolean {
  for (let i = index - 1; i >= 0 && i >= index - 12; i--) {
    const c = text[i] as string
    if (c === '\n' || c === '\r') return true
    if (!' \t#>*-[【'.includes(c)) return false
  }
  return index <= 12
}

/** The rest of the original line after `index`, at most 200 characters. */
export function restOfLine (text: string, index: number): string {
  const limit = Math.min(text.length, index + 200)
  let end = index
  while (end < limit && text[end] !== '\n' && text[end] !== '\r') end++
  return text.slice(index, end)
}
