import { createLocalJWKSet, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose'

/** Resolves the verification key for a token's protected header (jose's getKey shape). */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

const ASYMMETRIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP'])

/**
 * Keeps only public, asymmetric signing keys. A symmetric (`oct`) member would let a token
 * signed with HMAC verify (RFC 8725 §2.1, §3.1); a private member has no place in a
 * verification set; an encryption key is not for signatures (RFC 7517 §4.2).
 */
export function publicSigningKeys (value: unknown): JSONWebKeySet {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new Error('JWKS document has no "keys" array')
  }
  const members: unknown[] = (value as { keys: unknown[] }).keys
  const keys = members.filter((member): member is JWK => {
    if (typeof member !== 'object' || member === null) return false
    const jwk = member as Record<string, unknown>
    return typeof jwk.kty === 'string' && ASYMMETRIC_KEY_TYPES.has(jwk.kty) &&
      jwk.d === undefined && (jwk.use === undefined || jwk.use === 'sig')
  })
  return { keys }
}

/** A fixed key set (Portcullis's own signing keys); refuses sets that are not public keys. */
export function createStaticKeyResolver (jwks: JSONWebKeySet): KeyResolver {
  const usable = publicSigningKeys(jwks)
  if (usable.keys.length !== jwks.keys.length) {
    throw new Error('the local key set may hold only public asymmetric signing keys (no oct, no private members)')
  }
  if (usable.keys.length === 0) throw new Error('the local key set is empty')
  return createLocalJWKSet(usable)
}
