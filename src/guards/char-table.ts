/**
 * Per-character facts for the normaliser, computed once for the Basic Multilingual Plane so the
 * hot loop does one array read per non-ASCII character instead of calling `normalize()` on it.
 * Built lazily on the first non-ASCII input (~10 ms once) and then shared.
 */

/** Invisible: zero-width characters, bidi controls, variation selectors, fillers. */
export const removed = 1
/** Any Unicode white space (NBSP, ideographic space, line separators …). */
export const space = 2
/** A combining mark (\p{M}): it belongs to the segment of the character before it. */
export const mark = 4
/** NFKC changes this character on its own (full-width forms, ligatures, ℓ, ①, …). */
export const nfkcChanges = 8

const removedRanges: Array<[number, number]> = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x061c, 0x061c], [0x115f, 0x1160], [0x17b4, 0x17b5],
  [0x180b, 0x180f], [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x206f], [0x3164, 0x3164],
  [0xfe00, 0xfe0f], [0xfeff, 0xfeff], [0xffa0, 0xffa0]
]

let table: Uint8Array | null = null

export function charFlags (code: number): number {
  table ??= buildTable()
  return table[code] as number
}

function buildTable (): Uint8Array {
  const flags = new Uint8Array(0x10000)
  const isMark = /^\p{M}$/u
  const isSpace = /^\s$/u
  for (let code = 0x80; code < 0x10000; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue
    const char = String.fromCharCode(code)
    let f = 0
    if (isSpace.test(char) || code === 0x85) f |= space
    else if (isMark.test(char)) f |= mark
    if (char.normalize('NFKC') !== char) f |= nfkcChanges
    flags[code] = f
  }
  for (const [from, to] of removedRanges) {
    for (let code = from; code <= to; code++) flags[code] = removed
  }
  return flags
}

/**
 * Look-alike letters from Cyrillic, Greek and IPA folded to the Latin letter they imitate, so
 * `ѕk-…` or `Ignоre` (with a Cyrillic о) reads like its Latin original. Only confusables that are
 * visually identical in common fonts are listed (Unicode TR39 confusables, abridged).
 */
const homoglyphPairs = 'АAВBЕEКKМMНHОOРPСCТTХXУYЅSІIЈJаaеeоoрpсcуyхxѕsіiјjԁdһhԛqԝwӏlҮY' +
  'ΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXαaοoνvιiκkρpıiɡgɑaʏyℓl'

export const homoglyphs: ReadonlyMap<number, string> = new Map(
  Array.from({ length: homoglyphPairs.length / 2 }, (_, k) =>
    [homoglyphPairs.charCodeAt(2 * k), homoglyphPairs[2 * k + 1] as string] as const)
)
