import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

/**
 * OAuth client secrets look like `pcs_<43 base64url characters>`: 32 random bytes (256 bits).
 * The `pcs_` prefix lets secret scanners recognise a leaked one. The base64url alphabet has no
 * character that RFC 6749 §2.3.1 form-urlencoding changes, so a client that forgets to encode
 * the secret in `Authorization: Basic` still sends the right bytes.
 */
const secretPrefix = 'pcs_'
const secretPattern = /^pcs_[A-Za-z0-9_-]{43}$/

/** scrypt cost: N = 2^ln, block size r, parallelism p (RFC 7914 §2). */
export interface ScryptParams {
  readonly ln: number
  readonly r: number
  readonly p: number
}

/**
 * N = 2^15, r = 8, p = 1 (32 MiB): 105 ms median per verify (89–116 ms over 21 runs) on a
 * 2-vCPU AMD EPYC with Node 24.21 (`node src/oauth/bench-client-secret.ts`). Generated secrets
 * carry 256 bits, so the cost matters only if a store leak meets a weak secret typed by hand.
 */
export const defaultScryptParams: ScryptParams = Object.freeze({ ln: 15, r: 8, p: 1 })

// Bounds on parameters read back from storage: a tampered row must not make one verify take
// minutes or gigabytes.
const maxLn = 20
const maxR = 32
const maxP = 16
const saltBytes = 16
const hashBytes = 32
const storedPattern = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/

export function generateClientSecret (): string {
  return secretPrefix + randomBytes(32).toString('base64url')
}

/** True for strings shaped like a secret from `generateClientSecret` (for scanners and redaction). */
export function looksLikeClientSecret (text: string): boolean {
  return secretPattern.test(text)
}

/**
 * Hashes a secret for storage as `scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url): the parameters
 * travel with the hash so that they can be raised later without invalidating stored secrets.
 */
export async function hashClientSecret (secret: string, params: ScryptParams = defaultScryptParams): Promise<string> {
  checkParams(params)
  const salt = randomBytes(saltBytes)
  const hash = await derive(secret, salt, params)
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/** Constant-time check of a presented secret against a stored hash; false for a malformed hash. */
export async function verifyClientSecret (secret: string, storedHash: string): Promise<boolean> {
  const parsed = parseStoredHash(storedHash)
  if (parsed === null) return false
  const presented = await derive(secret, parsed.salt, parsed.params)
  return timingSafeEqual(presented, parsed.hash)
}

/** The secret hashes of one client: the current one and, during a rotation, the previous one. */
export interface ClientSecretHashes {
  readonly secretHash: string
  readonly previousSecretHash?: string | null
  /** Epoch ms after which the previous secret is refused. */
  readonly previousExpiresAt?: number | null
}

/**
 * Verifies against the current hash and, while its grace period runs, the previous one. Both are
 * computed in parallel (libuv thread pool), so the answer takes about one scrypt whichever
 * matches, and a failure during a rotation is not much slower than any other failure.
 */
export async function verifyClientSecretWithRotation (secret: string, hashes: ClientSecretHashes, now = Date.now()): Promise<'current' | 'previous' | null> {
  const previous = hashes.previousSecretHash
  const graceOpen = typeof previous === 'string' && typeof hashes.previousExpiresAt === 'number' && now < hashes.previousExpiresAt
  const [current, old] = await Promise.all([
    verifyClientSecret(secret, hashes.secretHash),
    graceOpen ? verifyClientSecret(secret, previous) : Promise.resolve(false)
  ])
  if (current) return 'current'
  return old ? 'previous' : null
}

/** Reads the parameters of a stored hash, e.g. to rehash secrets made with a lower cost. */
export function storedHashParams (storedHash: string): ScryptParams | null {
  return parseStoredHash(storedHash)?.params ?? null
}

interface ParsedHash {
  readonly params: ScryptParams
  readonly salt: Buffer
  readonly hash: Buffer
}

function parseStoredHash (storedHash: string): ParsedHash | null {
  const match = storedPattern.exec(storedHash)
  if (match === null) return null
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  if (!paramsInRange(params)) return null
  return { params, salt: Buffer.from(match[4] as string, 'base64url'), hash: Buffer.from(match[5] as string, 'base64url') }
}

function paramsInRange (params: ScryptParams): boolean {
  const { ln, r, p } = params
  return [ln, r, p].every(Number.isSafeInteger) && ln >= 1 && ln <= maxLn && r >= 1 && r <= maxR && p >= 1 && p <= maxP
}

function checkParams (params: ScryptParams): void {
  if (!paramsInRange(params)) throw new Error(`scrypt parameters out of range (ln 1..${maxLn}, r 1..${maxR}, p 1..${maxP})`)
}

function derive (secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln
  // Node's default maxmem (32 MiB) refuses N = 2^15, r = 8, which needs 128 * N * r bytes plus a little.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r * params.p }
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, hashBytes, options, (err, key) => {
      if (err === null) resolve(key)
      else reject(err)
    })
  })
}
