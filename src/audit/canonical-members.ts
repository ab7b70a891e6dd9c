import type { JsonValue } from './canonical-json.ts'
import { canonicalJsonReference, inCanonicalOrder, orderedKey, sortedCopy, unsupported } from './canonical-json.ts'

type JsonObject = { readonly [key: string]: JsonValue }

/**
 * The canonical members of `value` (comma-separated `"key":value`, no braces) in groups split
 * at `pivots` (sorted, none of them a key of `value`): group 0 sorts before `pivots[0]`, group i
 * between `pivots[i-1]` and `pivots[i]`, the last after every pivot. The chain serializes a
 * record's fields once with it and places `mac`, `prev` and `seq` between the groups, for both
 * the text its MAC covers and the line (docs/audit.md, "Records and the chain").
 *
 * Three paths, fastest first, each falling through to the next for what it cannot vouch for:
 * an object already in canonical order is serialized natively and cut at its top-level commas;
 * otherwise key-sorted copies of each group are; otherwise the reference serializer writes each
 * member. canonical-json.test.ts checks all three against the reference.
 */
export function canonicalMemberGroups (value: JsonObject, pivots: readonly string[]): string[] {
  const keys = Object.keys(value)
  if (inCanonicalOrder(value, 0)) return cutAtCommas(JSON.stringify(value), groupSizes(keys, pivots))
  keys.sort()
  const groups: Array<Record<string, unknown>> = pivots.map(() => ({}))
  groups.push({})
  let group = 0
  for (const key of keys) {
    while (group < pivots.length && key > (pivots[group] as string)) group += 1
    const copy = orderedKey(key) ? sortedCopy(value[key], 1) : unsupported
    if (copy === unsupported) return referenceGroups(value, keys, pivots)
    ;(groups[group] as Record<string, unknown>)[key] = copy
  }
  return groups.map((members) => JSON.stringify(members).slice(1, -1))
}

/** How many of the (sorted) keys fall into each group. */
function groupSizes (sortedKeys: readonly string[], pivots: readonly string[]): number[] {
  const sizes = new Array<number>(pivots.length + 1).fill(0)
  let group = 0
  for (const key of sortedKeys) {
    while (group < pivots.length && key > (pivots[group] as string)) group += 1
    sizes[group] = (sizes[group] as number) + 1
  }
  return sizes
}

/**
 * Cuts the native serialization of an object into groups of `sizes[i]` members. Members are
 * separated by the commas at depth 0; a comma, brace or bracket inside a string never counts
 * (strings are skipped whole: `JSON.stringify` escapes every `"` inside one as `\"`).
 */
function cutAtCommas (text: string, sizes: readonly number[]): string[] {
  const groups: string[] = []
  let start = 1
  let depth = 0
  let i = 1
  for (let g = 0; g < sizes.length; g++) {
    let remaining = sizes[g] as number
    if (remaining === 0) {
      groups.push('')
      continue
    }
    if (g === sizes.length - 1) {
      groups.push(text.slice(start, text.length - 1))
      break
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 0x22) i = closingQuote(text, i)
      else if (c === 0x7b || c === 0x5b) depth += 1
      else if (c === 0x7d || c === 0x5d) {
        // The object's own closing brace: the group ends with the last member.
        if (--depth < 0) break
      } else if (c === 0x2c && depth === 0 && --remaining === 0) break
    }
    groups.push(text.slice(start, i))
    start = i + 1
    i += 1
  }
  return groups
}

/** Index of the quote that closes the string opened at `open` (one not preceded by an odd run of backslashes). */
function closingQuote (text: string, open: number): number {
  let close = text.indexOf('"', open + 1)
  for (;;) {
    if (close === -1) return text.length
    let slashes = 0
    while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes += 1
    if (slashes % 2 === 0) return close
    close = text.indexOf('"', close + 1)
  }
}

function referenceGroups (value: JsonObject, sortedKeys: readonly string[], pivots: readonly string[]): string[] {
  const groups: string[][] = pivots.map(() => [])
  groups.push([])
  let group = 0
  for (const key of sortedKeys) {
    while (group < pivots.length && key > (pivots[group] as string)) group += 1
    ;(groups[group] as string[]).push(JSON.stringify(key) + ':' + canonicalJsonReference(value[key] as JsonValue, 1))
  }
  return groups.map((members) => members.join(','))
}
