import { randomBytes } from 'node:crypto'

export const base62Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** `length` uniformly random base62 characters (ids of keys, clients, policies). */
export function randomBase62 (length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // Rejection sampling: 248 = 4 * 62, so accepted bytes map uniformly onto the alphabet.
      if (byte < 248 && out.length < length) out += base62Alphabet[byte % 62]
    }
  }
  return out
}
