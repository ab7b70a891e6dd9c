/**
 * A seeded generator (mulberry32) so `build-corpus.ts` writes byte-identical files on every run:
 * the corpus is reviewed like code, so regenerating it must not produce a diff.
 */
export interface Prng {
  next (): number
  int (min: number, maxInclusive: number): number
  pick<T> (items: readonly T[]): T
  chars (alphabet: string, length: number): string
}

export function createPrng (seed: number): Prng {
  let state = seed >>> 0
  function next (): number {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  function int (min: number, maxInclusive: number): number {
    return min + Math.floor(next() * (maxInclusive - min + 1))
  }
  function pick<T> (items: readonly T[]): T {
    return items[int(0, items.length - 1)] as T
  }
  function chars (alphabet: string, length: number): string {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[int(0, alphabet.length - 1)]
    return out
  }
  return { next, int, pick, chars }
}

export const DIGITS = '0123456789'
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const BASE64URL = BASE62 + '-_'
