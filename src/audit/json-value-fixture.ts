import type { JsonValue } from './canonical-json.ts'

// Generators of hostile JSON values for the tests that hold the audit's fast serialization paths
// to the reference serializer (canonical-fast-path.test.ts, request-record.test.ts).

/** A small deterministic PRNG (mulberry32): a failure names its seed and can be replayed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const nastyStrings = [
  '', 'plain', '"', '\\', '\\"', '"\\', 'a"b\\"c', 'ends with a backslash\\', '\\\\"', ',', '{', '}', '[', ']', ',"mac":"00"',
  '"seq":1,', '\n', '\r\n', '\u0000', '\u001b[31mred\u001b[0m', '\u007f', '\u2028\u2029', '\ud800', '\udfff', 'x\ud800y',
  '\ud83d\ude00', 'é', '\u20ac', '\ufb33', 'OpenAI/JS 6.3.0', '{"seq":1,"prev":"x"}'
]
export const nastyKeys = [
  'a', 'b', 'z', 'mac', 'prev', 'seq', 'ma', 'mad', 'prev0', 'seq_', 'se', 'A', '_', '__proto__', '1', '10', '9', '01', '4294967295',
  'é', '\u20ac', '\ud83d\ude00', '\r', '"', '\\', 'key with space', 'toJSON', 'constructor', 'metadata', 'guards', 'geo'
]
export const numbers = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 1.5e-7, 5e-324, Number.MAX_SAFE_INTEGER, 123456789.125, -12.5, 0.000042, 2 ** 53 + 2]

export function pick<T> (rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T
}

export function value (rnd: () => number, depth: number): JsonValue {
  const r = rnd()
  if (depth > 3 || r < 0.45) return primitive(rnd)
  if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1))
  return object(rnd, depth + 1, Math.floor(rnd() * 6))
}

export function primitive (rnd: () => number): JsonValue {
  const r = rnd()
  if (r < 0.5) return pick(rnd, nastyStrings) + (rnd() < 0.3 ? pick(rnd, nastyStrings) : '')
  if (r < 0.8) return pick(rnd, numbers) * (rnd() < 0.5 ? 1 : rnd())
  return r < 0.9 ? rnd() < 0.5 : null
}

/** An object with keys in a random insertion order; `__proto__` is made an own key, as JSON.parse does. */
export function object (rnd: () => number, depth: number, size: number, avoid: readonly string[] = []): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  for (let i = 0; i < size; i++) {
    const key = rnd() < 0.6 ? pick(rnd, nastyKeys) : 'k' + Math.floor(rnd() * 50).toString(36)
    if (avoid.includes(key)) continue
    Object.defineProperty(out, key, { value: value(rnd, depth), enumerable: true, writable: true, configurable: true })
  }
  return out
}
