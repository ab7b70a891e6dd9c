import type { InjectionRule, InjectionSignal } from './injection-signals.ts'

/** A rule that matched: a span of the normalised text and the rule's own scale. */
export interface RawHit {
  readonly signal: InjectionSignal
  readonly start: number
  readonly end: number
  readonly scale: number
  readonly rule: InjectionRule
}

/** Longest stretch of text a blocker or `requires` test looks at, whatever the input size. */
const REQUIRES_TAIL = 48

/**
 * Runs every rule over `text`. Each distinct regex is executed once (`matchAll`, linear for
 * these patterns); two-part rules pair each first-part hit with the nearest second-part hit by
 * a forward-only pointer, so the whole pass is O(n · rules). `mayMatch` (a prefilter) skips
 * rules whose regex cannot match this text; the hits are the same with or without it.
 */
export function matchRules (text: string, rules: readonly InjectionRule[], mayMatch: (pattern: RegExp) => boolean = () => true): RawHit[] {
  const spans = new Map<RegExp, Array<readonly [number, number]>>()
  const spansOf = (pattern: RegExp): Array<readonly [number, number]> => {
    let found = spans.get(pattern)
    if (found === undefined) {
      found = []
      for (const m of text.matchAll(pattern)) found.push([m.index, m.index + m[0].length])
      spans.set(pattern, found)
    }
    return found
  }
  const hits: RawHit[] = []
  for (const rule of rules) {
    if (!mayMatch(rule.pattern) || (rule.then !== undefined && !mayMatch(rule.then))) continue
    const firsts = spansOf(rule.pattern)
    if (firsts.length === 0) continue
    if (rule.then === undefined) {
      for (const [start, end] of firsts) hits.push({ signal: rule.signal, start, end, scale: rule.scale ?? 1, rule })
      continue
    }
    pairHits(text, rule, firsts, spansOf(rule.then), hits)
  }
  return hits
}

function pairHits (text: string, rule: InjectionRule, firsts: ReadonlyArray<readonly [number, number]>,
  seconds: ReadonlyArray<readonly [number, number]>, hits: RawHit[]): void {
  const window = rule.window ?? 40
  let k = 0
  for (const [start, end] of firsts) {
    while (k < seconds.length && (seconds[k] as readonly [number, number])[0] < end) k++
    const second = seconds[k]
    if (second === undefined) return
    if (second[0] - end > window) continue
    if (rule.blocker !== undefined && rule.blocker.test(text.slice(end, second[0]))) continue
    if (rule.requires !== undefined && !rule.requires.test(text.slice(start, second[1] + REQUIRES_TAIL))) continue
    hits.push({ signal: rule.signal, start, end: second[1], scale: rule.scale ?? 1, rule })
  }
}
