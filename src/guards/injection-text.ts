import { normalize, type NormalizedText } from './normalize.ts'

/**
 * The text the injection rules read: the shared normalisation (`normalize()` with default
 * options, the one PII and secret detection use) lower-cased and with leetspeak folded, all one
 * character for one, so `toOriginal` of the shared normalisation maps its offsets too and a
 * guard stage normalises a prompt once for every detector.
 *
 * Leet characters (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s) are folded where they touch a letter of
 * the normalised text, so a zero-width or full-width character between them does not hide them;
 * in a word that mixes letters and digits every leet digit is folded.
 */
export function injectionText (base: NormalizedText): NormalizedText {
  const lower = base.text.toLowerCase()
  // Lower-casing only grows a string (U+0130 İ → i + U+0307): then offsets would shift, so
  // the normaliser lower-cases segment by segment and keeps its own offset map.
  if (lower.length !== base.text.length) {
    const own = normalize(base.original, { lowercase: true, foldLeetspeak: true })
    return { text: foldLeet(own.text), original: own.original, toOriginal: own.toOriginal }
  }
  return { text: foldLeet(lower), original: base.original, toOriginal: base.toOriginal }
}

/** Leet character → letter by char code (0 where the character is not one). */
const TOUCHING = new Uint8Array(128)
for (const [symbol, letter] of [['0', 'o'], ['1', 'i'], ['3', 'e'], ['4', 'a'], ['5', 's'], ['7', 't'], ['@', 'a'], ['$', 's']] as const) {
  TOUCHING[symbol.charCodeAt(0)] = letter.charCodeAt(0)
}
/** The digits among them, folded inside words that mix letters and digits. */
const LEET_DIGIT = TOUCHING.map((letter, c) => (c >= 48 && c <= 57 ? letter : 0))
/** Words are checked in chunks of at most this many characters. */
const LEET_WORD = 64

/** A letter next to a digit, `@` or `$`: nothing is folded in a text without one. */
const LEET_CONTACT = /[a-z][0-9@$]|[0-9@$][a-z]/g

/**
 * Folds leetspeak, one character for one: (1) every leet character next to a letter (neighbours
 * read from the unfolded text), then (2) in each word of letters and digits (checked in chunks
 * of 64), every leet digit if the word mixes letters and digits, so `1n57ruc710n5` keeps none.
 *
 * Both steps change only runs of `[a-z0-9@$]` that contain a letter next to a leet character,
 * so a regex finds those and only they are rewritten (4 KB of prose: ~2 µs instead of ~20 µs for
 * a per-character pass). Each run is handled once, as `lastIndex` jumps past it: linear time.
 */
export function foldLeet (text: string): string {
  LEET_CONTACT.lastIndex = 0
  let parts: string[] | null = null
  let copied = 0
  for (let m = LEET_CONTACT.exec(text); m !== null; m = LEET_CONTACT.exec(text)) {
    let start = m.index
    while (start > copied && isRunChar(text.charCodeAt(start - 1))) start--
    let end = m.index + 2
    while (end < text.length && isRunChar(text.charCodeAt(end))) end++
    LEET_CONTACT.lastIndex = end
    const folded = foldRun(text.slice(start, end))
    if (folded === null) continue
    parts ??= []
    parts.push(text.slice(copied, start), folded)
    copied = end
  }
  if (parts === null) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

/** Both steps on one maximal run of `[a-z0-9@$]` (its neighbours are not letters); null if unchanged. */
function foldRun (run: string): string | null {
  const n = run.length
  const out: number[] = new Array(n)
  let changed = false
  for (let i = 0; i < n; i++) {
    const c = run.charCodeAt(i)
    const letter = TOUCHING[c] as number
    if (letter !== 0 && (isLetter(run.charCodeAt(i - 1)) || isLetter(run.charCodeAt(i + 1)))) {
      out[i] = letter
      changed = true
    } else {
      out[i] = c
    }
  }
  let i = 0
  while (i < n) {
    if (!isLowerAlnum(out[i] as number)) { i++; continue }
    let end = i + 1
    while (end < n && isLowerAlnum(out[end] as number)) end++
    for (let start = i; end - start >= 2; start += LEET_WORD) {
      if (foldMixedWord(out, start, Math.min(start + LEET_WORD, end))) changed = true
    }
    i = end
  }
  if (!changed) return null
  let folded = ''
  for (let k = 0; k < n; k += 8192) folded += String.fromCharCode(...out.slice(k, k + 8192))
  return folded
}

/** Step 2 on one chunk: folds its leet digits if it has both letters and digits. */
function foldMixedWord (out: number[], start: number, stop: number): boolean {
  let letters = false
  let digits = false
  for (let k = start; k < stop; k++) {
    if ((out[k] as number) <= 57) digits = true
    else letters = true
  }
  if (!letters || !digits) return false
  let changed = false
  for (let k = start; k < stop; k++) {
    const c = out[k] as number
    if (c <= 57 && LEET_DIGIT[c] !== 0) {
      out[k] = LEET_DIGIT[c] as number
      changed = true
    }
  }
  return changed
}

function isLetter (c: number): boolean {
  return c >= 97 && c <= 122
}

function isRunChar (c: number): boolean {
  return isLowerAlnum(c) || c === 64 || c === 36
}

function isLowerAlnum (c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}
