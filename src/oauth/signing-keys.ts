import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose'
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose'
import { deriveKey, keyLabels } from '../crypto/derive-key.ts'

export type SigningAlgorithm = 'EdDSA' | 'ES256'

/** Every algorithm this server signs with; verifiers pin this list (RFC 8725 §3.1). */
export const signingAlgorithms: readonly SigningAlgorithm[] = Object.freeze(['EdDSA', 'ES256'])

/** A signing key as stored: the public JWK in clear, the private key only wrapped. */
export interface StoredSigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  readonly kid: string
  readonly alg: SigningAlgorithm
  /** Public members only, with `kid`, `alg` and `use: "sig"`. */
  readonly publicJwk: JWK
  /** `v1.<nonce>.<ciphertext>.<tag>`, see `wrapPrivateKey`. */
  readonly wrappedPrivateKey: string
  /** Epoch ms. */
  readonly createdAt: number
  /** Epoch ms when a newer key took over signing; null for the current key. */
  readonly rotatedAt: number | null
  /** Epoch ms after which no token signed by this key can still be valid; null for the current key. */
  readonly retireAfter: number | null
}

const wrapFormat = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/

/**
 * Encrypts a private JWK with AES-256-GCM under a key derived from the master key. The nonce is
 * random (96 bits; a key sees a handful of wraps, far from the 2^32 limit of NIST SP 800-38D
 * §8.3) and the kid is the additional data, so a wrapped key moved to another kid fails to open.
 */
export function wrapPrivateKey (masterKey: Buffer, kid: string, privateJwk: JWK): string {
  if (typeof privateJwk.d !== 'string') throw new Error('wrapPrivateKey: not a private JWK')
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', wrapKey(masterKey), nonce)
  cipher.setAAD(Buffer.from(kid, 'utf8'))
  const plain = Buffer.from(JSON.stringify(privateJwk), 'utf8')
  try {
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
    return ['v1', nonce, ciphertext, cipher.getAuthTag()].map((part) => typeof part === 'string' ? part : part.toString('base64url')).join('.')
  } finally {
    plain.fill(0)
  }
}

/** Opens a wrapped private JWK; throws, naming only the kid, when it was altered or belongs elsewhere. */
export function unwrapPrivateKey (masterKey: Buffer, kid: string, wrapped: string): JWK {
  const match = wrapFormat.exec(wrapped)
  if (match === null) throw new Error(`signing key ${kid}: the wrapped private key is malformed`)
  const decipher = createDecipheriv('aes-256-gcm', wrapKey(masterKey), Buffer.from(match[1] as string, 'base64url'))
  decipher.setAAD(Buffer.from(kid, 'utf8'))
  decipher.setAuthTag(Buffer.from(match[3] as string, 'base64url'))
  let plain: Buffer
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(match[2] as string, 'base64url')), decipher.final()])
  } catch {
    throw new Error(`signing key ${kid}: the wrapped private key does not open (altered, another kid, or another master key)`)
  }
  try {
    return JSON.parse(plain.toString('utf8')) as JWK
  } finally {
    plain.fill(0)
  }
}

function wrapKey (masterKey: Buffer): Buffer {
  // The label value is fixed forever: changing it would make every stored key fail to open.
  return deriveKey(masterKey, keyLabels.signingKeyWrap)
}

/** A new key pair; only its wrapped private key leaves this function. */
export async function generateSigningKey (masterKey: Buffer, alg: SigningAlgorithm = 'EdDSA', now = Date.now()): Promise<StoredSigningKey> {
  const pair = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true })
  const publicJwk = await exportJWK(pair.publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const wrappedPrivateKey = wrapPrivateKey(masterKey, kid, await exportJWK(pair.privateKey))
  return Object.freeze({
    kid,
    alg,
    publicJwk: Object.freeze({ ...publicJwk, kid, alg, use: 'sig' }),
    wrappedPrivateKey,
    createdAt: now,
    rotatedAt: null,
    retireAfter: null
  })
}

/** The key that signs new tokens. The private key is not extractable. */
export interface CurrentSigningKey {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly privateKey: CryptoKey
}

/** The current signing key and the rotated-out keys whose tokens may still be valid. */
export interface SigningKeyRing {
  /** Longest lifetime a token signed from this ring may have; sets `retireAfter` on rotation. */
  readonly maxTokenLifetimeSeconds: number
  current (): CurrentSigningKey
  /** Public key for a kid, or null when unknown or retired. */
  publicKey (kid: string, now?: number): CryptoKey | null
  /** The RFC 7517 §5 JWK Set for `/.well-known/jwks.json`: public members only. */
  jwks (now?: number): JSONWebKeySet
  /** A new current key; the old one keeps verifying until `retireAfter`. Persist `toStored()` after. */
  rotate (alg?: SigningAlgorithm, now?: number): Promise<void>
  /** The keys to persist, current first; retired keys are dropped. */
  toStored (now?: number): StoredSigningKey[]
}

export interface LoadSigningKeyRingOptions {
  readonly masterKey: Buffer
  /** Exactly one must have `rotatedAt: null`. */
  readonly keys: readonly StoredSigningKey[]
  readonly maxTokenLifetimeSeconds?: number
}

interface RingEntry {
  stored: StoredSigningKey
  readonly publicKey: CryptoKey
}

export async function loadSigningKeyRing (options: LoadSigningKeyRingOptions): Promise<SigningKeyRing> {
  const { masterKey } = options
  const maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? 3600
  if (!Number.isSafeInteger(maxTokenLifetimeSeconds) || maxTokenLifetimeSeconds < 1) throw new Error('maxTokenLifetimeSeconds must be a positive whole number')
  const currents = options.keys.filter((key) => key.rotatedAt === null)
  if (currents.length !== 1) throw new Error(`a signing key ring needs exactly one current key, found ${currents.length}`)
  let current = await openCurrent(masterKey, currents[0] as StoredSigningKey)
  let entries = await Promise.all(options.keys.map(toEntry))
  const live = (now: number): RingEntry[] => entries.filter((e) => e.stored.retireAfter === null || now < e.stored.retireAfter)
  return {
    maxTokenLifetimeSeconds,
    current: () => current,
    publicKey (kid, now = Date.now()) {
      return live(now).find((e) => e.stored.kid === kid)?.publicKey ?? null
    },
    jwks (now = Date.now()) {
      return { keys: sortCurrentFirst(live(now)).map((e) => publicMembers(e.stored.publicJwk)) }
    },
    async rotate (alg = 'EdDSA', now = Date.now()) {
      const next = await generateSigningKey(masterKey, alg, now)
      const nextEntry = await toEntry(next)
      const nextCurrent = await openCurrent(masterKey, next)
      const retireAfter = now + maxTokenLifetimeSeconds * 1000
      entries = [nextEntry, ...live(now).map((e) => e.stored.rotatedAt !== null ? e : { ...e, stored: { ...e.stored, rotatedAt: now, retireAfter } })]
      current = nextCurrent
    },
    toStored (now = Date.now()) {
      return sortCurrentFirst(live(now)).map((e) => e.stored)
    }
  }
}

async function openCurrent (masterKey: Buffer, stored: StoredSigningKey): Promise<CurrentSigningKey> {
  const privateJwk = unwrapPrivateKey(masterKey, stored.kid, stored.wrappedPrivateKey)
  // The thumbprint of the unwrapped key's public half must be the kid: a stored row whose public
  // JWK was swapped would otherwise publish a key that does not match the signatures.
  if (await calculateJwkThumbprint(publicMembers(privateJwk), 'sha256') !== stored.kid ||
    await calculateJwkThumbprint(publicMembers(stored.publicJwk), 'sha256') !== stored.kid) {
    throw new Error(`signing key ${stored.kid}: the key does not match its kid`)
  }
  const privateKey = await importJWK(privateJwk, stored.alg, { extractable: false })
  return Object.freeze({ kid: stored.kid, alg: stored.alg, privateKey: privateKey as CryptoKey })
}

async function toEntry (stored: StoredSigningKey): Promise<RingEntry> {
  if (!signingAlgorithms.includes(stored.alg)) throw new Error(`signing key ${stored.kid}: unsupported alg ${String(stored.alg)}`)
  return { stored, publicKey: await importJWK(publicMembers(stored.publicJwk), stored.alg) as CryptoKey }
}

function sortCurrentFirst (entries: RingEntry[]): RingEntry[] {
  return [...entries].sort((a, b) => (b.stored.rotatedAt ?? Infinity) - (a.stored.rotatedAt ?? Infinity))
}

/**
 * The public members of an OKP or EC JWK (RFC 8037 §2, RFC 7518 §6.2.1), plus kid/alg/use: an
 * allowlist, so a private member (`d`) can never be copied along.
 */
export function publicMembers (jwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg, use } = jwk
  const out: JWK = { kty, crv, x }
  if (y !== undefined) out.y = y
  if (kid !== undefined) out.kid = kid
  if (alg !== undefined) out.alg = alg
  if (use !== undefined) out.use = use
  return out
}
