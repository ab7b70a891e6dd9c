import { GatewayError } from '../errors/gateway-error.ts'
import { findDuplicateKey } from '../lib/find-duplicate-key.ts'

/**
 * Parses a JSON request body and rejects ambiguous documents. RFC 8259 §4 leaves duplicate
 * member names to the implementation: JSON.parse keeps the last, other parsers (and some
 * upstreams) keep the first. A gateway that authorises `{"model":"cheap","model":"expensive"}`
 * by one reading while the upstream acts on the other is bypassed, so duplicates are refused.
 */
export function parseStrictJson (text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new GatewayError('invalid_request', { message: 'The request body is not valid JSON.' })
  }
  const duplicate = findDuplicateKey(text)
  if (duplicate !== null) {
    throw new GatewayError('invalid_request', { message: 'The request body has a duplicate key.', param: duplicate })
  }
  return value
}
