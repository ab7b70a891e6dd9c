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
 */
export function canonicalJson (value: JsonValue): string {
  return serialize(value, 0)
}

function serialize (value: unknown, depth: number): string {
  // Strings first: most values of a record are strings, and this runs for every value verified.
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a finite number`)
    return JSON.stringify(value)
  }
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

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describe (value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object'
  return typeof value
}
