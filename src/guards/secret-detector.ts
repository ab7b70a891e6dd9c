import type { Detector, Finding } from './finding.ts'
import { scanText, type Matcher, type MatcherGroup, type RawMatch, type ScanOptions } from './scan-text.ts'
import { secretRules, secretTrigger } from './secret-rules.ts'

/**
 * Credentials in prompts and completions: provider keys (OpenAI, Anthropic, AWS, GitHub, Slack,
 * Google, Stripe), bearer tokens and JWTs, PEM private keys, `key = value` assignments with a
 * high-entropy value, and Portcullis's own keys (checksum-verified with the key parser, so a
 * string that merely looks like one is not reported). Run on input, so a secret never reaches a
 * model, and on output, so a model cannot echo one.
 */

export type SecretOptions = ScanOptions

/** A PEM private key without its END line is redacted up to this many characters. */
export const pemMaxLength = 8192
/**
 * Stream window: keyword context before a value (`aws_secret_access_key = `, `Bearer `) fits in
 * 64 characters; the values themselves are unbroken tokens up to 4096 characters (JWTs).
 * PEM blocks are longer and contain line breaks: while one is open the stream scanner holds
 * it back whole (up to `pemMaxLength`).
 */
export const secretWindow = 64
export const secretMaxTokenLength = 4096

const pemBegin = /-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g

/** From a BEGIN line to the end of the matching END line (or the cap, or the end of text). */
const matchPem: Matcher = (text, out) => {
  pemBegin.lastIndex = 0
  for (let m = pemBegin.exec(text); m !== null; m = pemBegin.exec(text)) {
    const limit = Math.min(text.length, m.index + pemMaxLength)
    const endLine = text.indexOf('-----END ', m.index + m[0].length)
    const close = endLine === -1 ? -1 : text.indexOf('-----', endLine + 9)
    const end = close !== -1 && close + 5 <= limit ? close + 5 : limit
    out.push({ type: 'secret.private_key', start: m.index, end })
    pemBegin.lastIndex = end
  }
}

const matchRules: Matcher = (text, out) => {
  for (const rule of secretRules) {
    for (const m of text.matchAll(rule.pattern)) {
      const span: readonly [number, number] | undefined = rule.group === undefined
        ? [m.index, m.index + m[0].length]
        : m.indices?.[rule.group]
      if (span === undefined) continue
      const [start, end] = span
      if (rule.validate === undefined || rule.validate(text.slice(start, end))) out.push({ type: rule.type, start, end })
    }
  }
}

const matchSecrets: Matcher = (text: string, out: RawMatch[]) => {
  if (!secretTrigger.test(text.toLowerCase())) return
  matchPem(text, out)
  matchRules(text, out)
}

/** The matcher group, for running secrets together with other groups over one normalisation. */
export function secretMatcherGroup (): MatcherGroup {
  return { kind: 'secret', matchers: [matchSecrets] }
}

/** Finds credentials in `text`; offsets are into `text` as given. Types are `secret.*`. */
export function detectSecrets (text: string, options: SecretOptions = {}): Finding[] {
  return scanText(text, [secretMatcherGroup()], options)
}

/** A `Detector` for the stream scanner and the guard stage. */
export function createSecretDetector (options: SecretOptions = {}): Detector {
  const groups = [secretMatcherGroup()]
  return {
    name: 'secret',
    window: secretWindow,
    maxTokenLength: secretMaxTokenLength,
    detect: (text) => scanText(text, groups, options)
  }
}
