import { DIGITS, type Prng } from './prng.ts'

/**
 * Synthetic PII values built with the real check algorithms (Luhn, ISO 13616 mod-97,
 * GB 11643-1999), so a detector that validates checksums must accept them, and near-misses
 * that differ only in the check digit, so one that does not validate is caught out.
 */

export function luhnCheckDigit (payload: string): string {
  let sum = 0
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i])
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9 }
    sum += d
  }
  return String((10 - (sum % 10)) % 10)
}

export function paymentCard (rng: Prng, valid = true): string {
  const kind = rng.pick(['visa', 'mc', 'amex', 'unionpay'])
  const prefix = kind === 'visa' ? '4' : kind === 'mc' ? '5' + rng.int(1, 5) : kind === 'amex' ? rng.pick(['34', '37']) : '62'
  const length = kind === 'amex' ? 15 : 16
  const payload = prefix + rng.chars(DIGITS, length - 1 - prefix.length)
  const check = luhnCheckDigit(payload)
  const digit = valid ? check : String((Number(check) + rng.int(1, 9)) % 10)
  return payload + digit
}

/** Groups of four (`4111 1111 …`) or dashes, as people paste them. */
export function groupDigits (value: string, separator: string): string {
  return value.replace(/(\d{4})(?=\d)/g, '$1' + separator)
}

const IBAN_SHAPES: Record<string, number> = { DE: 18, GB: 18, FR: 23, NL: 14, ES: 20, IT: 23 }

function mod97 (digits: string): number {
  let rest = 0
  for (const ch of digits) rest = (rest * 10 + Number(ch)) % 97
  return rest
}

function ibanBban (rng: Prng, country: string): string {
  const length = IBAN_SHAPES[country] as number
  if (country === 'GB') return rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + rng.chars(DIGITS, length - 4)
  if (country === 'NL') return rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + rng.chars(DIGITS, length - 4)
  if (country === 'IT') return 'X' + rng.chars(DIGITS, length - 1)
  return rng.chars(DIGITS, length)
}

export function iban (rng: Prng, valid = true): string {
  const country = rng.pick(Object.keys(IBAN_SHAPES))
  const bban = ibanBban(rng, country)
  const numeric = (bban + country + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let check = 98 - mod97(numeric)
  if (!valid) check = check === 97 ? 2 : check + 1
  return country + String(check).padStart(2, '0') + bban
}

export function groupIban (value: string): string {
  return value.replace(/(.{4})(?=.)/g, '$1 ')
}

export function usSsn (rng: Prng, valid = true): string {
  if (valid) {
    let area = rng.int(1, 899)
    if (area === 666) area = 667
    return `${String(area).padStart(3, '0')}-${String(rng.int(1, 99)).padStart(2, '0')}-${String(rng.int(1, 9999)).padStart(4, '0')}`
  }
  // Never issued (SSA): area 000, 666 or 900-999, group 00, serial 0000.
  const bad = rng.int(0, 3)
  if (bad === 0) return `000-${rng.int(10, 99)}-${rng.int(1000, 9999)}`
  if (bad === 1) return `666-${rng.int(10, 99)}-${rng.int(1000, 9999)}`
  if (bad === 2) return `${rng.int(100, 665)}-00-${rng.int(1000, 9999)}`
  return `${rng.int(100, 665)}-${rng.int(10, 99)}-0000`
}

const CN_AREAS = ['110101', '110105', '310104', '310115', '440305', '440106', '330106', '510107', '420111', '320102']
const CN_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CN_CHECK = '10X98765432'

export function cnCheckChar (first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (CN_WEIGHTS[i] as number)
  return CN_CHECK[sum % 11] as string
}

/** GB 11643-1999: area (6) + birth date (8) + sequence (3) + check character. */
export function cnResidentId (rng: Prng, valid = true): string {
  const year = rng.int(1950, 2005)
  const month = String(rng.int(1, 12)).padStart(2, '0')
  const day = String(rng.int(1, 28)).padStart(2, '0')
  const first17 = rng.pick(CN_AREAS) + year + month + day + rng.chars(DIGITS, 3)
  const check = cnCheckChar(first17)
  if (valid) return first17 + check
  const wrong = CN_CHECK[(CN_CHECK.indexOf(check) + rng.int(1, 10)) % 11] as string
  return first17 + wrong
}

export function cnMobile (rng: Prng): string {
  return '1' + rng.pick(['3', '5', '7', '8', '9']) + rng.chars(DIGITS, 9)
}

/** E.164 (ITU-T E.164 §6): `+`, country code, subscriber number; at most 15 digits. */
export function e164 (rng: Prng): string {
  const shape = rng.pick([
    () => '+1' + rng.pick(['415', '212', '646', '312']) + '555' + rng.chars(DIGITS, 4),
    () => '+44' + '7' + rng.chars(DIGITS, 9),
    () => '+49' + '15' + rng.chars(DIGITS, 9),
    () => '+33' + '6' + rng.chars(DIGITS, 8),
    () => '+86' + cnMobile(rng),
    () => '+81' + '90' + rng.chars(DIGITS, 8)
  ])
  return shape()
}

const GIVEN = ['alice', 'bob', 'li.wei', 'zhang.min', 'maria', 'j.smith', 'wang_fang', 'o.brien', 'chen.jing', 'ravi.k']
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'corp.example.co.uk', 'example.cn', 'test.example.io']

export function email (rng: Prng): string {
  const local = rng.pick(GIVEN) + (rng.next() < 0.4 ? String(rng.int(1, 99)) : '')
  return local + '@' + rng.pick(DOMAINS)
}
