import { randomBytes } from 'node:crypto'
import { base62Alphabet as alphabet, randomBase62 } from '../lib/random-base62.ts'
import { crc32 } from 'node:zlib'

/**
 * API keys look like `pcl_<id>_<secret><checksum>`:
 * - `pcl_` lets secret scanners (GitHub push protection, gitleaks) recognise a leaked key;
 * - `<id>`: 16 random base62 characters; the public id is `key_<id>`, used in the admin API,
 *   the CLI and audit records, so the secret never has to be named;
 * - `<secret>`: 32 random bytes (256 bits) as 43 base62 characters;
 * - `<checksum>`: CRC32 of everything before it, 6 base62 characters, so a typo or a truncated
 *   key is rejected offline, without a store lookup.
 */
const prefix = 'pcl_'
const idLength = 16
const secretLength = 43
const checksumLength = 6
const keyPattern = /^pcl_([0-9A-Za-z]{16})_[0-9A-Za-z]{49}$/
const publicIdPattern = /^key_[0-9A-Za-z]{16}$/

export interface GeneratedApiKey {
  /** Public id, `key_<16 base62>`. */
  readonly id: string
  /** The full key string, shown once. */
  readonly secret: string
  readonly lastFour: string
}

export function generateApiKey (): GeneratedApiKey {
  return keyForId('key_' + randomBase62(idLength))
}

/** A fresh secret for an existing public id (rotation keeps the id). */
export function keyForId (id: string): GeneratedApiKey {
  if (!isPublicKeyId(id)) throw new Error('keyForId: not a public key id')
  const body = prefix + id.slice(4) + '_' + encodeBase62(BigInt('0x' + randomBytes(32).toString('hex')), secretLength)
  const secret = body + checksum(body)
  return { id, secret, lastFour: secret.slice(-4) }
}

/** Returns the public id of a well-formed key with a correct checksum, else null. */
export function parseApiKey (text: string): { id: string } | null {
  const match = keyPattern.exec(text)
  if (match === null) return null
  const body = text.slice(0, -checksumLength)
  if (checksum(body) !== text.slice(-checksumLength)) return null
  return { id: 'key_' + (match[1] as string) }
}

export function isPublicKeyId (text: string): boolean {
  return publicIdPattern.test(text)
}

function checksum (body: string): string {
  return encodeBase62(BigInt(crc32(body)), checksumLength)
}

function encodeBase62 (value: bigint, width: number): string {
  let out = ''
  let n = value
  while (n > 0n) {
    out = alphabet[Number(n % 62n)] + out
    n /= 62n
  }
  return out.padStart(width, '0')
}
