import { crc32 } from 'node:zlib'
import { BASE62, BASE64URL, DIGITS, type Prng } from './prng.ts'

/**
 * Fake credentials in each provider's published format (prefix, alphabet, length and, where the
 * format has one, its checksum). None of them was ever issued; they only have the right shape.
 */

function base62 (value: number, width: number): string {
  let out = ''
  let n = value
  while (n > 0) { out = BASE62[n % 62] + out; n = Math.floor(n / 62) }
  return out.padStart(width, '0')
}

export function openaiKey (rng: Prng): string {
  return rng.next() < 0.5
    ? 'sk-proj-' + rng.chars(BASE64URL, 74) + 'T3BlbkFJ' + rng.chars(BASE64URL, 74)
    : 'sk-' + rng.chars(BASE62, 20) + 'T3BlbkFJ' + rng.chars(BASE62, 20)
}

export function anthropicKey (rng: Prng): string {
  return 'sk-ant-api03-' + rng.chars(BASE64URL, 93) + 'AA'
}

export function awsAccessKeyId (rng: Prng): string {
  return rng.pick(['AKIA', 'ASIA']) + rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)
}

/** GitHub tokens end in a base62 CRC32 of the random part (github.blog, 2021-04 token format). */
export function githubToken (rng: Prng, valid = true): string {
  const random = rng.chars(BASE62, 30)
  const sum = crc32(random)
  const check = base62(valid ? sum : (sum + 1) >>> 0, 6)
  return rng.pick(['ghp_', 'gho_', 'ghs_']) + random + check
}

export function githubFineGrained (rng: Prng): string {
  return 'github_pat_' + rng.chars(BASE62, 22) + '_' + rng.chars(BASE62, 59)
}

export function slackToken (rng: Prng): string {
  return rng.pick(['xoxb-', 'xoxp-']) + rng.chars(DIGITS, 12) + '-' + rng.chars(DIGITS, 13) + '-' + rng.chars(BASE62, 24)
}

export function googleApiKey (rng: Prng): string {
  return 'AIza' + rng.chars(BASE64URL, 35)
}

export function stripeKey (rng: Prng): string {
  return rng.pick(['sk_live_', 'rk_live_', 'sk_test_']) + rng.chars(BASE62, rng.pick([24, 99]))
}

function b64url (text: string): string {
  return Buffer.from(text).toString('base64url')
}

export function jwt (rng: Prng): string {
  const header = b64url(JSON.stringify({ alg: rng.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }))
  const payload = b64url(JSON.stringify({ sub: 'user_' + rng.chars(DIGITS, 6), iat: 1700000000 + rng.int(0, 9999999), scope: 'read write' }))
  return header + '.' + payload + '.' + rng.chars(BASE64URL, 43)
}

const B64 = BASE62 + '+/'

export function pemBlock (rng: Prng, label: string): string {
  const lines = []
  for (let i = 0; i < rng.int(6, 12); i++) lines.push(rng.chars(B64, 64))
  lines.push(rng.chars(B64, 20) + '==')
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`
}

/** The format of src/auth/api-key-format.ts: `pcl_<16 base62>_<43 base62><6 base62 CRC32>`. */
export function portcullisKey (rng: Prng, valid = true): string {
  const body = 'pcl_' + rng.chars(BASE62, 16) + '_' + rng.chars(BASE62, 43)
  const sum = crc32(body)
  return body + base62(valid ? sum : (sum ^ 0x5a5a) >>> 0, 6)
}
