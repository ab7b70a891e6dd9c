import { GatewayError } from '../errors/gateway-error.ts'
import type { RequestMetadata } from '../pipeline/context.ts'
import { findDuplicateKey } from '../lib/find-duplicate-key.ts'
import { redactCredentialShapes } from '../lib/credential-shapes.ts'

/** The request header whose JSON object is recorded as `metadata`; never forwarded upstream. */
export const metadataHeader = 'x-portcullis-metadata'

/** Bounds that keep caller labels small and flat: they are labels, not a payload channel. */
export const metadataLimits = Object.freeze({ maxKeys: 16, maxKeyChars: 64, maxStringChars: 256 })
const labelKey = new RegExp(`^[A-Za-z0-9_.:-]{1,${metadataLimits.maxKeyChars}}$`)

const utf8 = new TextDecoder('utf-8', { fatal: true })

function invalid (message: string): GatewayError {
  return new GatewayError('invalid_request', { param: metadataHeader, message })
}

/**
 * Validates the `x-portcullis-metadata` header: a JSON object of at most `maxBytes` bytes, at
 * most 16 keys, each value a string (≤ 256 characters), a finite number or a boolean.
 * Returns null when the header is absent; throws 400 `invalid_request` naming the header
 * otherwise. Node hands header bytes over as latin1, so they are re-read as (strict) UTF-8.
 */
export function parseRequestMetadata (value: string | string[] | undefined, maxBytes: number): RequestMetadata | null {
  if (value === undefined) return null
  if (Array.isArray(value)) throw invalid(`Send the ${metadataHeader} header once.`)
  const bytes = Buffer.from(value, 'latin1')
  if (bytes.length > maxBytes) throw invalid(`The ${metadataHeader} header is larger than ${maxBytes} bytes.`)
  let text: string
  let parsed: unknown
  try {
    text = utf8.decode(bytes)
    parsed = JSON.parse(text)
  } catch {
    throw invalid(`The ${metadataHeader} header must be a JSON object in UTF-8.`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid(`The ${metadataHeader} header must be a JSON object.`)
  }
  if (findDuplicateKey(text) !== null) throw invalid(`The ${metadataHeader} header repeats a key.`)
  return checkEntries(parsed as Record<string, unknown>)
}

function checkEntries (object: Record<string, unknown>): RequestMetadata {
  const entries = Object.entries(object)
  if (entries.length > metadataLimits.maxKeys) throw invalid(`The ${metadataHeader} header has more than ${metadataLimits.maxKeys} keys.`)
  for (const [key, value] of entries) {
    // Labels are names, not text: a narrow alphabet keeps them greppable and out of reach of
    // escape tricks (and of a Node 24 JSON.parse bug that confuses one-character escaped keys).
    if (!labelKey.test(key)) {
      throw invalid(`Keys of the ${metadataHeader} header must be 1 to ${metadataLimits.maxKeyChars} characters of A-Z, a-z, 0-9, '_', '-', '.' or ':'.`)
    }
    const ok = typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= metadataLimits.maxStringChars)
    if (!ok) {
      throw invalid(`Values of the ${metadataHeader} header must be strings of at most ${metadataLimits.maxStringChars} characters, numbers or booleans.`)
    }
  }
  // A credential pasted into a label is not recorded (lib/credential-shapes.ts).
  // Keys inserted in canonical (sorted) order, so the audit record serializes them as they are.
  const labels: Record<string, string | number | boolean> = {}
  for (const [key, raw] of entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    const value = typeof raw === 'string' ? redactCredentialShapes(raw) : raw as number | boolean
    // An assignment to `__proto__` would set the prototype: define it as the own key JSON.parse made.
    if (key === '__proto__') Object.defineProperty(labels, key, { value, enumerable: true, writable: true, configurable: true })
    else labels[key] = value
  }
  return Object.freeze(labels)
}
