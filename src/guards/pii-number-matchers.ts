import type { Matcher, RawMatch } from './scan-text.ts'
import { cnResidentIdValid, ibanLength, ibanValid, ipv4Valid, paymentCardValid, usSsnValid } from './pii-validators.ts'

/*
 * Number-shaped PII. Each pattern is linear-time by construction (docs/guards.md): quantifiers
 * are bounded, every quantified group starts with a class disjoint from the separator before
 * it (so a string parses one way only), and boundaries are one-character look-arounds. The
 * validators then decide; a candidate that fails is dropped, never retried at other lengths.
 */

const card = /(?<![\d.,-])\d(?:[ -]?\d){12,18}(?!-?\d)/g
const iban = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g
const ssn = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g
const cnId = /(?<![\dA-Za-z])[1-9]\d{16}[\dXx](?![\dA-Za-z])/g
const cnMobile = /(?<![\d+])(?:(?:\+|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/g
const e164 = /(?<![\w+])\+[1-9](?:[ .()-]{0,2}\d){7,14}(?!\d)/g
const nanp = /(?<![\w+])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[-.])[2-9]\d{2}[-.]\d{4}(?!\d|[-.]\d)/g
const ipv4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/g
const versionBefore = /\b(?:v|version|ver\.?|build|release)\s?$/i

const digitsOnly = (text: string): string => text.replace(/\D/g, '')
const hasDigit = /\d/

function push (out: RawMatch[], type: string, start: number, end: number): void {
  out.push({ type, start, end })
}

export const matchPaymentCards: Matcher = (text, out) => {
  for (const m of text.matchAll(card)) {
    if (paymentCardValid(digitsOnly(m[0]))) push(out, 'payment_card', m.index, m.index + m[0].length)
  }
}

/** IBANs, cut to the registered length of their country (a following word is not swallowed). */
export const matchIbans: Matcher = (text, out) => {
  iban.lastIndex = 0
  for (let m = iban.exec(text); m !== null; m = iban.exec(text)) {
    const length = ibanLength(m[0].slice(0, 2))
    if (length === undefined) continue
    let compact = ''
    let end = m.index
    while (compact.length < length && end < m.index + m[0].length) {
      if (text[end] !== ' ') compact += text[end]
      end++
    }
    if (compact.length !== length || /[A-Za-z0-9]/.test(text[end] ?? '')) continue
    if (ibanValid(compact)) {
      push(out, 'iban', m.index, end)
      iban.lastIndex = end
    }
  }
}

export const matchUsSsns: Matcher = (text, out) => {
  for (const m of text.matchAll(ssn)) {
    if (usSsnValid(m[1] as string, m[3] as string, m[4] as string)) push(out, 'us_ssn', m.index, m.index + m[0].length)
  }
}

export const matchCnResidentIds: Matcher = (text, out) => {
  for (const m of text.matchAll(cnId)) {
    if (cnResidentIdValid(m[0])) push(out, 'cn_resident_id', m.index, m.index + m[0].length)
  }
}

/** Chinese mobiles (1[3-9]x xxxx xxxx, optional +86), E.164 (`+` and 8–15 digits), NANP. */
export const matchPhones: Matcher = (text, out) => {
  for (const m of text.matchAll(cnMobile)) push(out, 'phone', m.index, m.index + m[0].length)
  for (const m of text.matchAll(e164)) {
    const digits = digitsOnly(m[0]).length
    if (digits >= 8 && digits <= 15) push(out, 'phone', m.index, m.index + m[0].length)
  }
  for (const m of text.matchAll(nanp)) push(out, 'phone', m.index, m.index + m[0].length)
}

/** IPv4 addresses, except four-part version numbers (`v1.2.3.4`, `version 10.0.0.1`). */
export const matchIpv4: Matcher = (text, out) => {
  for (const m of text.matchAll(ipv4)) {
    if (!ipv4Valid([m[1], m[2], m[3], m[4]] as string[])) continue
    if (versionBefore.test(text.slice(Math.max(0, m.index - 10), m.index))) continue
    push(out, 'ipv4', m.index, m.index + m[0].length)
  }
}

export const numberMatchers: readonly Matcher[] = [
  matchCnResidentIds, matchPaymentCards, matchIbans, matchUsSsns, matchPhones, matchIpv4
]

/** Cheap prefilter: no digit, no number-shaped PII. */
export function mayHaveNumbers (text: string): boolean {
  return hasDigit.test(text)
}
