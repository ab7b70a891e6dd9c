import { createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { deriveKey } from '../crypto/derive-key.ts'

/**
 * HKDF labels of the audit keys. They live here rather than in `keyLabels` of
 * `src/crypto/derive-key.ts` only until that file is next edited; they must stay distinct from
 * every other label there.
 */
export const auditKeyLabels = Object.freeze({
  mac: 'portcullis/audit-mac/v1',
  signing: 'portcullis/audit-signing/v1'
})

/** The keys of the audit chain, all derived from the master key; none is ever written to disk. */
export interface AuditKeys {
  /** HMAC-SHA256 key of the record chain (a KeyObject: HMAC with one is ~6x faster than with a Buffer). */
  readonly macKey: KeyObject
  /** Ed25519 private key that signs checkpoints. */
  readonly signingKey: KeyObject
  /** Its public key: give it (see `auditPublicKeyPem`) to whoever checks exported checkpoints. */
  readonly publicKey: KeyObject
}

/** What a verifier needs: the MAC key for the chain, the public key for the checkpoints. */
export type AuditVerifyKeys = Pick<AuditKeys, 'macKey' | 'publicKey'>

// PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410 §7): the fixed header, then the 32-byte seed.
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * Derives the audit keys. The Ed25519 key pair is derived from a 32-byte HKDF output used as the
 * private key seed (RFC 8032 §5.1.5), so there is no private key file to protect or lose: the
 * same master key always gives the same key pair, and a new master key gives a new one.
 */
export function deriveAuditKeys (master: Buffer): AuditKeys {
  const seed = deriveKey(master, auditKeyLabels.signing)
  const der = Buffer.concat([ed25519Pkcs8Prefix, seed])
  try {
    const signingKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    return {
      macKey: createSecretKey(deriveKey(master, auditKeyLabels.mac)),
      signingKey,
      publicKey: createPublicKey(signingKey)
    }
  } finally {
    seed.fill(0)
    der.fill(0)
  }
}

/** The checkpoint public key as SPKI PEM, for export next to `checkpoints.jsonl`. */
export function auditPublicKeyPem (keys: Pick<AuditKeys, 'publicKey'>): string {
  return keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
}
