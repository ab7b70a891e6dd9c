/** The values an audit record may hold: what JSON can carry without loss. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

// Records are shallow; a bound keeps a hostile nested value from exhausting the stack.
const maxDepth = 64

/**
 * Serializes a value the one way its MAC is computed over: RFC 8785 (JCS) for the value types
 * records use. Object keys are sorted by UTF-16 code units (§3.2.3, which is what
 * `Array.prototype.sort` does), there is no whitespace, strings are written as `JSON.stringify`
 * writes them (§3.2.2.2) and numbers as ECMAScript writes them (§3.2.2.3). Non-finite numbers and
 * anything JSON cannot carry (undefined, functions, bigint, class instances) are refused, so that
 * parsing the output and serializing it again always gives the same string. One deviation: a
 * lone surrogate is escaped as `\udXXX` (as `JSON.stringify` does) instead of refused, so that a
 * client cannot make its own request unauditable; it still round-trips exactly.
 *
 * Fast path: a key-sorted plain copy handed to the native `JSON.stringify` (about 4x faster than
 * concatenating in JavaScript, measured with src/audit/bench-record.ts). Whatever that path does
 * not vouch for (a refused value, a key the engine would not keep in insertion order) goes to
 * `canonicalJsonReference`, so the output and the errors are the reference's by construction;
 * canonical-json.test.ts checks the two agree over generated records.
 */
export function canonicalJson (value: JsonValue): string {
  // A value that is already in canonical order (what JSON.parse gives for a line read back, and
  // what the record stage builds) is handed to the native serializer as it is.
  if (inCanonicalOrder(value, 0)) return JSON.stringify(value)
  const copy = sortedCopy(value, 0)
  return copy === unsupported ? canonicalJsonReference(value) : JSON.stringify(copy)
}

/**
 * `value` with every object's keys in canonical order, so that serializing a record takes the
 * fastest path (`canonicalMemberGroups`): `value` itself when it already is, else a key-sorted
 * copy, else `value` as it is when only the reference writes it (a key starting with a digit);
 * null when `canonicalJson` would refuse it. For values from code the audit does not own.
 */
export function canonicallyOrdered (value: unknown): JsonValue | null {
  if (inCanonicalOrder(value, 0)) return value as JsonValue
  const copy = sortedCopy(value, 0)
  if (copy !== unsupported) return copy as JsonValue
  return isCanonicalizable(value) ? value as JsonValue : null
}

/** True when `canonicalJson(value)` would succeed: for values from code the audit does not own. */
export function isCanonicalizable (value: unknown, depth = 0): boolean {
  return acceptedWith(value, depth, anyKey)
}

/**
 * The serializer the fast paths must match: JavaScript string building, value by value. `depth`
 * is where `value` sits in the value being serialized (a member of a record is at depth 1).
 */
export function canonicalJsonReference (value: JsonValue, depth = 0): string {
  return serialize(value, depth)
}

/** What `sortedCopy` returns for a value the fast path leaves to the reference. */
export const unsupported = Symbol('unsupported')

/**
 * True when `JSON.stringify(value)` is already its canonical form: every value is one the
 * reference accepts and every object's keys were inserted in canonical order. No copy is made.
 */
export function inCanonicalOrder (value: unknown, depth: number): boolean {
  return acceptedWith(value, depth, canonicalKey)
}

/** Whether the key at `i` of an object's own keys (in insertion order) is acceptable. */
type KeyRule = (keys: readonly string[], i: number) => boolean
const anyKey: KeyRule = () => true
const canonicalKey: KeyRule = (keys, i) => orderedKey(keys[i] as string) && (i === 0 || (keys[i - 1] as string) < (keys[i] as string))

/**
 * True when every value inside `value` is one the reference accepts (finite numbers, plain
 * objects and arrays, at most `maxDepth` deep) and every object's keys pass `rule`.
 */
function acceptedWith (value: unknown, depth: number, rule: KeyRule): boolean {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (depth >= maxDepth || typeof value !== 'object') return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!acceptedWith(value[i], depth + 1, rule)) return false
    return true
  }
  if (!isPlainObject(value)) return false
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  for (let i = 0; i < keys.length; i++) {
    if (!rule(keys, i) || !acceptedWith(record[keys[i] as string], depth + 1, rule)) return false
  }
  return true
}

/**
 * A copy whose objects have their keys inserted in sorted order, so the native `JSON.stringify`
 * writes them sorted; `unsupported` for anything the reference refuses or might write otherwise.
 */
export function sortedCopy (value: unknown, depth: number): unknown {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : unsupported
  if (depth >= maxDepth || typeof value !== 'object') return unsupported
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i], depth + 1)
      if (item === unsupported) return unsupported
      out.push(item)
    }
    return out
  }
  if (!isPlainObject(value)) return unsupported
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(record).sort()) {
    if (!orderedKey(key)) return unsupported
    const item = sortedCopy(record[key], depth + 1)
    if (item === unsupported) return unsupported
    out[key] = item
  }
  return out
}

/**
 * Keys an object keeps in insertion order (ECMA-262 OrdinaryOwnPropertyKeys puts array indices
 * first, in numeric order), and that an assignment stores as a plain property (`__proto__` would
 * set the prototype instead). Any key starting with a digit is left to the reference: rare in
 * records, and cheaper than deciding whether it is an array index.
 */
export function orderedKey (key: string): boolean {
  const first = key.charCodeAt(0)
  return !(first >= 48 && first <= 57) && key !== '__proto__'
}

function serialize (value: unknown, depth: number): string {
  // Strings first: most values of a record are strings.
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value)
  if (typeof value === 'number') return canonicalNumber(value)
  if (depth >= maxDepth) throw new TypeError(`canonicalJson: nested deeper than ${maxDepth}`)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + serialize(value[i], depth + 1)
    return out + ']'
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const record = value as Record<string, unknown>
    let out = '{'
    for (const key of Object.keys(record).sort()) {
      out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + serialize(record[key], depth + 1)
    }
    return out + '}'
  }
  throw new TypeError(`canonicalJson: a ${describe(value)} has no JSON form`)
}

/** A number as canonical JSON writes it (ECMAScript's Number::toString); non-finite ones are refused. */
export function canonicalNumber (value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a finite number`)
  return String(value)
}

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describe (value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object'
  return typeof value
}
