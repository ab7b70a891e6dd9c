import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto'
import { deriveKey, keyLabels } from '../crypto/derive-key.ts'

/**
 * Hashes API keys for storage: HMAC-SHA256 keyed with a pepper derived from the master key.
 * A copy of the database alone is not enough to test guesses offline; the keys themselves carry
 * 256 bits, so a slow password hash would add latency without adding security.
 */
export interface ApiKeyHasher {
  /** Hex HMAC of the full key string. */
  hash (key: string): string
  /** Constant-time comparison of a presented key against a stored hex hash. */
  matches (key: string, storedHash: string): boolean
}

export function createApiKeyHasher (masterKey: Buffer): ApiKeyHasher {
  // A KeyObject made once: createHmac with a raw Buffer builds one per call, measured at
  // 22.6 µs against 5.6 µs per HMAC on this machine (Node 24) — on every request.
  const pepper = createSecretKey(deriveKey(masterKey, keyLabels.apiKeyPepper))
  const digest = (key: string): Buffer => createHmac('sha256', pepper).update(key, 'utf8').digest()
  return {
    hash: (key) => digest(key).toString('hex'),
    matches (key, storedHash) {
      const stored = Buffer.from(storedHash, 'hex')
      const presented = digest(key)
      // Lengths are public (always 32 bytes for a well-formed record); only the contents are secret.
      return stored.length === presented.length && timingSafeEqual(stored, presented)
    }
  }
}
