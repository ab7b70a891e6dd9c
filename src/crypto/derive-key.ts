import { hkdfSync } from 'node:crypto'

/**
 * HKDF labels (the `info` input, RFC 5869 §3.2). Each use of the master key gets its own label
 * so that one derived key never equals another; a `/vN` suffix lets a key be replaced without
 * touching the others.
 */
export const keyLabels = Object.freeze({
  apiKeyPepper: 'portcullis/api-key-pepper/v1',
  /** AES-256-GCM key that wraps the OAuth access-token signing keys at rest (src/oauth/signing-keys.ts). */
  signingKeyWrap: 'portcullis/signing-key-wrap/v1'
})

/**
 * Derives a sub-key from the 32-byte master key with HKDF-SHA256. The salt is empty: the master
 * key is already uniformly random, which RFC 5869 §3.1 allows.
 */
export function deriveKey (master: Buffer, label: string, length = 32): Buffer {
  if (master.length !== 32) throw new Error('deriveKey: the master key must be 32 bytes')
  if (label === '') throw new Error('deriveKey: a label is required')
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, length))
}
