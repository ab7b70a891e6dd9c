import { charFlags, homoglyphs, mark, nfkcChanges, removed, space } from './char-table.ts'
import { OffsetMap } from './offset-map.ts'

/**
 * Normalisation runs before every detector so that obfuscation does not hide a value:
 * NFKC (full-width `１３８…` → `138…`, ligatures, mathematical letters), invisible characters
 * removed (zero-width, bidi controls, variation selectors), Unicode tag characters (U+E0020–E007E,
 * "ASCII smuggling") turned back into the ASCII they encode, look-alike Cyrillic/Greek letters
 * folded to Latin, and every run of white space collapsed to one space.
 *
 * The result keeps an offset map to the original, because the redactor must replace the span the
 * caller actually sent, not the span in our normalised copy.
 *
 * One pass over the input, O(n) time and memory. NFKC is applied per segment (a character and
 * the combining marks after it), which equals whole-string NFKC except for Hangul conjoining jamo
 * sequences (rare outside Korean input methods), which are left decomposed.
 */
export interface NormalizeOptions {
  /**
   * Fold leetspeak (`1gn0r3` → `ignore`): 0→o 1→i 3→e 4→a 5→s 7→t @→a $→s, only where the
   * symbol touches an ASCII letter, so plain numbers stay numbers. For the injection detector;
   * PII and secret detection must not use it (it would turn digits into letters). Default false.
   */
  readonly foldLeetspeak?: boolean
  /** Lower-case the result (length-preserving for ASCII). Default false. */
  readonly lowercase?: boolean
  /** Fold Cyrillic/Greek look-alikes to Latin. Default true. */
  readonly foldHomoglyphs?: boolean
}

export interface NormalizedText {
  /** The normalised text the detectors scan. */
  readonly text: string
  /** The text as the caller sent it. */
  readonly original: string
  /** Maps a non-empty half-open span of `text` to the span of `original` it came from. */
  toOriginal (start: number, end: number): { start: number, end: number }
}

const leet: Record<number, string> = { 48: 'o', 49: 'i', 51: 'e', 52: 'a', 53: 's', 55: 't', 64: 'a', 36: 's' }

export function normalize (original: string, options: NormalizeOptions = {}): NormalizedText {
  const state = new Normalizer(original, options)
  const text = state.run()
  const map = state.map
  return { text, original, toOriginal: (start, end) => map.toOriginal(start, end) }
}

class Normalizer {
  readonly map = new OffsetMap()
  private readonly parts: string[] = []
  private runStart = 0
  private readonly src: string
  private readonly leet: boolean
  private readonly lower: boolean
  private readonly homoglyphs: boolean
  /** The pending run holds upper-case ASCII, lower-cased when it is flushed. */
  private runHasUpper = false

  constructor (src: string, options: NormalizeOptions) {
    this.src = src
    this.leet = options.foldLeetspeak === true
    this.lower = options.lowercase === true
    this.homoglyphs = options.foldHomoglyphs !== false
  }

  run (): string {
    const src = this.src
    const n = src.length
    let i = 0
    while (i < n) {
      const c = src.charCodeAt(i)
      if (c < 0x80) i = this.ascii(c, i)
      else if (c >= 0xd800 && c <= 0xdbff) i = this.astral(i)
      else i = this.bmp(c, charFlags(c), i)
    }
    this.flush(n)
    return this.parts.length === 1 ? this.parts[0] as string : this.parts.join('')
  }

  private ascii (c: number, i: number): number {
    if (c === 32 || (c >= 9 && c <= 13)) return this.whitespace(i)
    if (this.lower && c >= 65 && c <= 90) return this.upperAscii(c, i)
    if (this.leet && leet[c] !== undefined && this.touchesLetter(i)) return this.replace(i, i + 1, leet[c] as string)
    const next = this.src.charCodeAt(i + 1)
    // A combining mark after an ASCII letter (e + U+0301) composes under NFKC.
    if (next >= 0x300 && next < 0xd800 && (charFlags(next) & mark) !== 0) return this.bmp(c, 0, i)
    return i + 1
  }

  /**
   * Upper-case ASCII stays in the run and the run is lower-cased once when flushed: one piece
   * per run instead of two per capital letter (it was ~40 % of an injection scan). Before a
   * combining mark the letter is replaced on its own, as it always was.
   */
  private upperAscii (c: number, i: number): number {
    const next = this.src.charCodeAt(i + 1)
    if (next >= 0x300 && next < 0xd800 && (charFlags(next) & mark) !== 0) return this.replace(i, i + 1, String.fromCharCode(c + 32))
    this.runHasUpper = true
    return i + 1
  }

  private bmp (c: number, flags: number, i: number): number {
    if (flags & removed) return this.replace(i, i + 1, '')
    if (flags & space) return this.whitespace(i)
    const end = this.segmentEnd(i + 1)
    if (end === i + 1 && (flags & nfkcChanges) === 0) {
      const glyph = this.homoglyphs ? homoglyphs.get(c) : undefined
      if (glyph === undefined && (!this.lower || !lowerCaseChanges(c))) return i + 1
      const folded = this.fold(this.src[i] as string)
      return folded === this.src[i] ? i + 1 : this.replace(i, i + 1, folded)
    }
    const segment = this.src.slice(i, end)
    const folded = this.fold(segment.normalize('NFKC'))
    return folded === segment ? end : this.replace(i, end, folded)
  }

  private astral (i: number): number {
    const cp = this.src.codePointAt(i) as number
    const width = cp > 0xffff ? 2 : 1
    // Tag characters (Unicode 15 §23.9) are invisible; attackers use them to smuggle ASCII.
    if (cp >= 0xe0020 && cp <= 0xe007e) return this.replace(i, i + 2, this.fold(String.fromCharCode(cp - 0xe0000)))
    if (cp === 0xe0001 || cp === 0xe007f) return this.replace(i, i + 2, '')
    const end = this.segmentEnd(i + width)
    const segment = this.src.slice(i, end)
    const folded = this.fold(segment.normalize('NFKC'))
    return folded === segment ? end : this.replace(i, end, folded)
  }

  /** A run of white space (with invisible characters inside it) becomes one space. */
  private whitespace (i: number): number {
    const src = this.src
    let j = i + 1
    while (j < src.length) {
      const c = src.charCodeAt(j)
      if (c === 32 || (c >= 9 && c <= 13)) j++
      else if (c >= 0x80 && c < 0xd800 && (charFlags(c) & (space | removed)) !== 0) j++
      else break
    }
    if (j === i + 1 && src.charCodeAt(i) === 32) return j
    return this.replace(i, j, ' ')
  }

  private segmentEnd (j: number): number {
    const src = this.src
    while (j < src.length) {
      const c = src.charCodeAt(j)
      if (c < 0x300 || c >= 0xd800 || (charFlags(c) & mark) === 0 || (charFlags(c) & removed) !== 0) break
      j++
    }
    return j
  }

  private fold (text: string): string {
    let out = text
    if (this.homoglyphs) {
      out = ''
      for (let k = 0; k < text.length; k++) out += homoglyphs.get(text.charCodeAt(k)) ?? text[k]
    }
    return this.lower ? out.toLowerCase() : out
  }

  private touchesLetter (i: number): boolean {
    return isLetter(this.src.charCodeAt(i - 1)) || isLetter(this.src.charCodeAt(i + 1))
  }

  /** Emits `replacement` for the original span [start, end) and returns `end`. */
  private replace (start: number, end: number, replacement: string): number {
    this.flush(start)
    if (replacement.length > 0) {
      this.parts.push(replacement)
      if (end - start === 1 && replacement.length === 1) this.map.linear(start, 1)
      else this.map.atom(start, end, replacement.length)
    }
    this.runStart = end
    return end
  }

  private flush (upTo: number): void {
    if (this.runStart < upTo) {
      // Only ASCII capitals change here: every other character in a run is its own lower case.
      const run = this.src.slice(this.runStart, upTo)
      this.parts.push(this.runHasUpper ? run.toLowerCase() : run)
      this.map.linear(this.runStart, upTo - this.runStart)
    }
    this.runHasUpper = false
    this.runStart = upTo
  }
}

/** Per BMP character: 0 not yet known, 1 `toLowerCase` keeps it, 2 it changes it. */
const lowerCaseCache = new Uint8Array(0x10000)

/** Cached, because a lower-casing pass over CJK text would otherwise call `toLowerCase` per character. */
function lowerCaseChanges (c: number): boolean {
  let known = lowerCaseCache[c] as number
  if (known === 0) {
    const ch = String.fromCharCode(c)
    known = ch.toLowerCase() === ch ? 1 : 2
    lowerCaseCache[c] = known
  }
  return known === 2
}

function isLetter (c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}
