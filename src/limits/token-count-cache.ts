import type { TokenizerFamily } from './estimate-tokens.ts'

/**
 * Remembers the token counts of recent prompt texts. Chat clients send the same system prompt
 * with every request and re-send the whole conversation on every turn, so most of a prompt's
 * text was tokenised moments ago; looking it up costs a hash of the string instead of a BPE
 * run (see docs/limits.md, "Token estimates"). Only texts of moderate size are kept.
 *
 * What it holds is prompt text, in this process's memory only (never written, never logged),
 * at most `maxChars` characters of it; `limits.token_count_cache_entries: 0` turns it off.
 */
export interface TokenCountCache {
  /** The count for `text`, computing it with `count` (and remembering it) when unknown. */
  count (family: TokenizerFamily, text: string, count: (text: string) => number): number
}

export interface TokenCountCacheOptions {
  /** Texts remembered at most (oldest forgotten first); 0 disables the cache. */
  readonly maxEntries: number
  /** Characters held at most, over all remembered texts. Default 64 × maxEntries. */
  readonly maxChars?: number
}

/** Longer texts are rarely repeated verbatim and cost memory: they are counted every time. */
export const MAX_CACHED_TEXT_CHARS = 8192
/** Even a role name costs a tokenizer call; an empty text costs nothing. */
const MIN_CACHED_TEXT_CHARS = 1

/**
 * Two generations, each of up to half the entries and characters: when the young one is full it
 * becomes the old one and the old one is dropped whole; a hit in the old one moves the text to
 * the young one. Every operation is O(1) (no eviction scans) and a text in use survives.
 */
export function createTokenCountCache (options: TokenCountCacheOptions): TokenCountCache {
  const maxEntries = Math.ceil(options.maxEntries / 2)
  const maxChars = Math.ceil((options.maxChars ?? 64 * options.maxEntries) / 2)
  // Per tokenizer family: the same text counts differently in each.
  let young = new Map<TokenizerFamily, Map<string, number>>()
  let old = new Map<TokenizerFamily, Map<string, number>>()
  let entries = 0
  let chars = 0

  const remember = (family: TokenizerFamily, text: string, tokens: number): void => {
    if (entries >= maxEntries || chars + text.length > maxChars) {
      old = young
      young = new Map()
      entries = 0
      chars = 0
    }
    let map = young.get(family)
    if (map === undefined) young.set(family, map = new Map())
    map.set(text, tokens)
    entries++
    chars += text.length
  }

  return {
    count (family, text, count) {
      if (maxEntries <= 0 || text.length < MIN_CACHED_TEXT_CHARS || text.length > MAX_CACHED_TEXT_CHARS) return count(text)
      const known = young.get(family)?.get(text)
      if (known !== undefined) return known
      const aged = old.get(family)?.get(text)
      const tokens = aged ?? count(text)
      remember(family, text, tokens)
      return tokens
    }
  }
}
