import { isIPv6 } from 'node:net'
import type { Matcher } from './scan-text.ts'
import { dateValid } from './pii-validators.ts'

/*
 * E-mail and IPv6 are found by hand-written scans outward from each `@` / `:`; each scan stops
 * at the next `@` / `:`, so every character is visited at most twice: linear time.
 */

const isLocalChar = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 39
const isDomainChar = (c: number): boolean => isAlnum(c) || c === 46 || c === 45
const isHexOrSep = (c: number): boolean => isHex(c) || c === 58 || c === 46

function isAlnum (c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

function isHex (c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

const tld = /\.[A-Za-z]{2,63}$/

/** RFC 5321 §4.5.3.1 limits: local part ≤ 64, domain ≤ 255 octets (253 in practice). */
export const matchEmails: Matcher = (text, out) => {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at
    while (start > 0 && isLocalChar(text.charCodeAt(start - 1))) start--
    while (text.charCodeAt(start) === 46) start++
    let end = at + 1
    while (end < text.length && isDomainChar(text.charCodeAt(end))) end++
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--
    const local = at - start
    const domain = text.slice(at + 1, end)
    if (local === 0 || local > 64 || domain.length > 253 || text.charCodeAt(at - 1) === 46) continue
    if (!tld.test(domain) || domain.startsWith('.') || domain.startsWith('-') || domain.includes('..')) continue
    out.push({ type: 'email', start, end })
  }
}

export const matchIpv6: Matcher = (text, out) => {
  let from = 0
  for (let colon = text.indexOf(':', from); colon !== -1; colon = text.indexOf(':', from)) {
    let start = colon
    while (start > from && isHexOrSep(text.charCodeAt(start - 1))) start--
    let end = colon + 1
    while (end < text.length && isHexOrSep(text.charCodeAt(end))) end++
    from = end
    let candidate = text.slice(start, end)
    while (candidate.endsWith('.')) candidate = candidate.slice(0, -1)
    if (candidate.length < 6 || isAlnum(text.charCodeAt(start - 1)) || isAlnum(text.charCodeAt(end))) continue
    if (isIPv6(candidate)) out.push({ type: 'ipv6', start, end: start + candidate.length })
  }
}

const dobKeyword = /\b(?:date of birth|birth ?date|d\.?o\.?b|born|birthday)(?![a-z])|出生日期|出生于|出生|生日(?!快乐)/gi
const monthNames = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\\.?'
const datePatterns: readonly RegExp[] = [
  /(?<!\d)(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?[日号]?/,
  /(?<!\d)(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})(?!\d)/,
  new RegExp(`(?<!\\d)(\\d{1,2})(?:st|nd|rd|th)?(?: of)? ${monthNames},? (\\d{4})(?!\\d)`, 'i'),
  new RegExp(`\\b${monthNames} (\\d{1,2})(?:st|nd|rd|th)?,? (\\d{4})(?!\\d)`, 'i')
]
const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
/** A date counts as a birth date only this close after the keyword ("DOB: 1990-03-07"). */
const maxGap = 16
const dateWindow = 48

/** Dates of birth: a valid date shortly after a birth keyword (English or Chinese). */
export const matchDatesOfBirth: Matcher = (text, out) => {
  for (const keyword of text.matchAll(dobKeyword)) {
    const from = keyword.index + keyword[0].length
    const window = text.slice(from, from + dateWindow)
    for (const pattern of datePatterns) {
      const m = pattern.exec(window)
      if (m === null || m.index > maxGap || !plausibleDate(pattern, m)) continue
      out.push({ type: 'date_of_birth', start: from + m.index, end: from + m.index + m[0].length })
      break
    }
  }
}

function plausibleDate (pattern: RegExp, m: RegExpExecArray): boolean {
  const g = m.slice(1).map(v => v ?? '')
  if (pattern === datePatterns[0]) return dateValid(Number(g[0]), Number(g[1]), Number(g[2]))
  if (pattern === datePatterns[1]) {
    const [a, , b, c] = g as [string, string, string, string]
    if (a.length === 4) return dateValid(Number(a), Number(b), Number(c))
    if (c.length !== 4) return false
    return dateValid(Number(c), Number(b), Number(a)) || dateValid(Number(c), Number(a), Number(b))
  }
  if (pattern === datePatterns[2]) return dateValid(Number(g[2]), monthOf(g[1] as string), Number(g[0]))
  return dateValid(Number(g[2]), monthOf(g[0] as string), Number(g[1]))
}

function monthOf (name: string): number {
  return months.indexOf(name.slice(0, 3).toLowerCase()) + 1
}
