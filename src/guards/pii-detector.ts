import type { Detector, Finding } from './finding.ts'
import { mayHaveNumbers, numberMatchers } from './pii-number-matchers.ts'
import { matchDatesOfBirth, matchEmails, matchIpv6 } from './pii-text-matchers.ts'
import { scanText, type Matcher, type MatcherGroup, type RawMatch, type ScanOptions } from './scan-text.ts'

/** Every type the PII detector reports (the `type` of its findings). */
export const piiTypes = [
  'email', 'phone', 'payment_card', 'iban', 'us_ssn', 'cn_resident_id', 'ipv4', 'ipv6', 'date_of_birth'
] as const
export type PiiType = typeof piiTypes[number]

export interface PiiOptions extends ScanOptions {
  /** Report only these types (a policy may not care about IP addresses). Default: all. */
  readonly types?: readonly PiiType[]
}

/**
 * Stream window of the PII detector: the longest spaced value with the context deciding it
 * (a birth keyword, up to 16 characters of gap and a 30-character date; an IBAN with spaces is
 * 42). `maxTokenLength`: an e-mail is at most 64 + 1 + 253 characters; base64 of one is longer.
 */
export const piiWindow = 80
export const piiMaxTokenLength = 1024

/** All PII matchers over normalised text; number patterns are skipped when there is no digit. */
const matchAllPii: Matcher = (text, out) => {
  if (mayHaveNumbers(text)) {
    for (const matcher of numberMatchers) matcher(text, out)
    matchDatesOfBirth(text, out)
  }
  matchEmails(text, out)
  matchIpv6(text, out)
}

/** The matcher group, for running PII together with other groups over one normalisation. */
export function piiMatcherGroup (options: PiiOptions = {}): MatcherGroup {
  const wanted = options.types === undefined ? null : new Set<string>(options.types)
  const matcher: Matcher = wanted === null
    ? matchAllPii
    : (text, out) => {
        const all: RawMatch[] = []
        matchAllPii(text, all)
        for (const m of all) if (wanted.has(m.type)) out.push(m)
      }
  return { kind: 'pii', matchers: [matcher] }
}

/**
 * Finds PII in `text`. Offsets are into `text` as given; the scan itself runs on the
 * normalised text (full-width digits, zero-width characters and look-alikes do not hide a
 * value) and inside base64/hex/URL-encoded spans. Where two types claim the same span, the
 * more specific wins (a resident id is not also reported as a card number).
 */
export function detectPii (text: string, options: PiiOptions = {}): Finding[] {
  return scanText(text, [piiMatcherGroup(options)], options)
}

/** A `Detector` for the stream scanner and the guard stage. */
export function createPiiDetector (options: PiiOptions = {}): Detector {
  const group = piiMatcherGroup(options)
  return {
    name: 'pii',
    window: piiWindow,
    maxTokenLength: piiMaxTokenLength,
    detect: (text) => scanText(text, [group], options)
  }
}
