/**
 * Which literal strings must a regex's every match contain? `requiredLiterals(/\b(?:ignore|
 * skip) (?:rules|instructions)\b/)` gives `['ignore', 'skip']` (or the other group): if none of
 * them occurs in a text, the regex cannot match there and need not run. This is the "prefilter"
 * idea of RE2 and code search, for the regex subset the injection rules use: literals, escapes,
 * classes, `.`, groups, alternation, lookarounds and quantifiers. Anything it does not model
 * gives `null` ("no known requirement"), never a wrong set, so a prefilter built on it can only
 * skip regexes that would have found nothing.
 */

/** Strings a node matches exactly (when few), or literals one of which every match contains. */
interface Info {
  readonly exact: ReadonlySet<string> | null
  readonly required: ReadonlySet<string> | null
}

/** Largest exact set kept before it is reduced to a requirement. */
const MAX_EXACT = 64
/** Longest literal kept: any substring of a required string is required too. */
const MAX_LITERAL = 8
/** Non-ASCII (CJK) literals are cut shorter: two or three characters are already rare. */
const MAX_WIDE_LITERAL = 3
/** Largest set of characters a class may stand for and still count as exact. */
const MAX_CLASS = 4
const EMPTY: Info = { exact: new Set(['']), required: null }
const UNKNOWN: Info = { exact: null, required: null }

/** Literals one of which every match of `pattern` contains, or null if none is known. */
export function requiredLiterals (pattern: RegExp): string[] | null {
  if (pattern.flags.includes('i') || pattern.flags.includes('v')) return null
  const parser = new Parser(pattern.source)
  try {
    const info = parser.alternation()
    if (parser.at < pattern.source.length) return null
    const set = best([info.exact, info.required])
    return set === null ? null : compact(set)
  } catch {
    return null
  }
}

class Parser {
  at = 0
  private readonly src: string
  constructor (src: string) { this.src = src }

  alternation (): Info {
    const options = [this.sequence()]
    while (this.src[this.at] === '|') {
      this.at++
      options.push(this.sequence())
    }
    return options.length === 1 ? options[0] as Info : union(options)
  }

  private sequence (): Info {
    const items: Info[] = []
    while (this.at < this.src.length && this.src[this.at] !== '|' && this.src[this.at] !== ')') {
      items.push(this.quantified(this.atom()))
    }
    return concat(items)
  }

  private atom (): Info {
    const ch = this.src[this.at++] as string
    if (ch === '(') return this.group()
    if (ch === '[') return this.charClass()
    if (ch === '\\') return this.escape()
    if (ch === '.') return UNKNOWN
    if (ch === '^' || ch === '$') return EMPTY
    return { exact: new Set([ch]), required: null }
  }

  private group (): Info {
    let lookaround = false
    if (this.src[this.at] === '?') {
      const kind = this.src.slice(this.at, this.at + 3)
      lookaround = kind.startsWith('?=') || kind.startsWith('?!') || kind === '?<=' || kind === '?<!'
      if (!lookaround && !kind.startsWith('?:')) throw new Error('unsupported group')
      this.at += kind.startsWith('?<') ? 3 : 2
    }
    const inner = this.alternation()
    if (this.src[this.at++] !== ')') throw new Error('unbalanced group')
    return lookaround ? EMPTY : inner
  }

  private charClass (): Info {
    const chars = new Set<string>()
    let simple = this.src[this.at] !== '^'
    while (this.at < this.src.length && this.src[this.at] !== ']') {
      let ch = this.src[this.at++] as string
      if (ch === '\\') {
        ch = this.src[this.at++] as string
        if (/[a-zA-Z0-9]/.test(ch)) simple = false
      } else if (this.src[this.at] === '-' && this.src[this.at + 1] !== ']') {
        simple = false
      }
      chars.add(ch)
    }
    this.at++
    return simple && chars.size <= MAX_CLASS ? { exact: chars, required: null } : UNKNOWN
  }

  private escape (): Info {
    const ch = this.src[this.at++] as string
    if (ch === 'b' || ch === 'B') return EMPTY
    if (/[a-zA-Z0-9]/.test(ch)) return UNKNOWN
    return { exact: new Set([ch]), required: null }
  }

  private quantified (info: Info): Info {
    const rest = this.src.slice(this.at)
    const m = /^(?:\?|\*|\+|\{(\d+)(?:,(\d*))?\})/.exec(rest)
    if (m === null) return info
    this.at += m[0].length
    if (this.src[this.at] === '?') this.at++
    const min = m[0] === '+' ? 1 : m[0] === '?' || m[0] === '*' ? 0 : Number(m[1])
    const max = m[0] === '?' ? 1 : m[1] !== undefined && m[2] === undefined ? min : Infinity
    // Optional: nothing is required; x? still matches exactly x or ''.
    if (min === 0) return max === 1 && info.exact !== null ? { exact: new Set([...info.exact, '']), required: null } : UNKNOWN
    if (min === 1 && max === 1) return info
    // x{m,n} with m ≥ 1 contains at least one match of x.
    return { exact: null, required: best([info.exact, info.required]) }
  }
}

/** Every match of a sequence contains a match of each item: keep the most selective set. */
function concat (items: readonly Info[]): Info {
  let exact: Set<string> | null = new Set([''])
  const candidates: Array<ReadonlySet<string> | null> = []
  let run: Set<string> = new Set([''])
  for (const item of items) {
    if (item.exact !== null && run.size * item.exact.size <= MAX_EXACT) {
      run = product(run, item.exact)
      exact = exact !== null && exact.size * item.exact.size <= MAX_EXACT ? product(exact, item.exact) : null
      continue
    }
    exact = null
    candidates.push(run, item.exact, item.required)
    run = item.exact !== null ? new Set(item.exact) : new Set([''])
  }
  candidates.push(run)
  return exact !== null ? { exact, required: null } : { exact: null, required: best(candidates) }
}

/** Every match of an alternation matches one of its options. */
function union (options: readonly Info[]): Info {
  if (options.every((o) => o.exact !== null)) {
    const exact = new Set(options.flatMap((o) => [...(o.exact as ReadonlySet<string>)]))
    if (exact.size <= MAX_EXACT) return { exact, required: null }
  }
  const required = new Set<string>()
  for (const option of options) {
    const set = best([option.exact, option.required])
    if (set === null) return UNKNOWN
    for (const s of set) required.add(s)
  }
  return { exact: null, required }
}

function product (left: ReadonlySet<string>, right: ReadonlySet<string>): Set<string> {
  const out = new Set<string>()
  for (const a of left) for (const b of right) out.add(a + b)
  return out
}

/** The set whose shortest literal is longest (fewest literals on a tie); none with ''. */
function best (sets: ReadonlyArray<ReadonlySet<string> | null>): ReadonlySet<string> | null {
  let chosen: ReadonlySet<string> | null = null
  let chosenMin = 0
  for (const set of sets) {
    if (set === null || set.size === 0) continue
    const min = Math.min(...[...set].map((s) => s.length))
    if (min > chosenMin || (min === chosenMin && min > 0 && set.size < (chosen as ReadonlySet<string>).size)) {
      chosen = set
      chosenMin = min
    }
  }
  return chosenMin > 0 ? chosen : null
}

/**
 * A smaller set with the same guarantee, for a small automaton: each literal becomes its longest
 * space-separated piece cut to MAX_LITERAL characters (a substring of a required string is
 * required), and a literal that contains another one in the set is dropped (the shorter one is
 * present whenever it is).
 */
function compact (set: ReadonlySet<string>): string[] {
  const pieces = new Set<string>()
  for (const literal of set) {
    const piece = literal.split(' ').reduce((a, b) => (b.length > a.length ? b : a))
    const chosen = piece.length >= 3 || piece.length === literal.length ? piece : literal
    // eslint-disable-next-line no-control-regex
    pieces.add(chosen.slice(0, /^[\x00-\x7f]*$/.test(chosen) ? MAX_LITERAL : MAX_WIDE_LITERAL))
  }
  const sorted = [...pieces].sort((a, b) => a.length - b.length)
  return sorted.filter((literal, k) => !sorted.slice(0, k).some((shorter) => literal.includes(shorter)))
}
