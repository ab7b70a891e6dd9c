import { parseApiKey } from '../auth/api-key-format.ts'

/**
 * One credential format. `pattern` is global; with `group`, the finding covers that capture
 * group only (the keyword before it is context, not secret) and the pattern has the `d` flag.
 * Patterns obey the linear-time rule (docs/guards.md): a literal prefix, then single character
 * classes whose repetition is either bounded or followed by a look-ahead for a character the
 * class cannot contain, so there is nothing to backtrack into.
 */
export interface SecretRule {
  readonly type: string
  readonly pattern: RegExp
  readonly group?: number
  /** Rejects look-alikes the pattern cannot (checksums, structure, entropy). */
  readonly validate?: (value: string) => boolean
}

const hasDigitAndLetter = (value: string): boolean => /\d/.test(value) && /[A-Za-z]/.test(value)

/** A JWT's first segment must decode to a JSON header naming an algorithm (RFC 7515 §4.1.1). */
function jwtHeaderValid (token: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as unknown
    return typeof header === 'object' && header !== null && 'alg' in header
  } catch {
    return false
  }
}

const placeholder = /^(?:x+|\*+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|(?:process\.)?env\b.*|your[_-].*|changeme|none|null|undefined|true|false)$/i

/** Shannon entropy in bits per character: random keys are above 3, words and placeholders below. */
export function entropy (value: string): number {
  const counts = new Map<string, number>()
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length)
  return bits
}

const genericValid = (value: string): boolean =>
  !placeholder.test(value) && entropy(value) >= 3 && /[\d\W_]/.test(value) && /[A-Za-z]/.test(value)

/** Ordered: where two rules claim the same span, the earlier (more specific) wins. */
export const secretRules: readonly SecretRule[] = [
  { type: 'secret.portcullis', pattern: /(?<!\w)pcl_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}(?!\w)/g, validate: (v) => parseApiKey(v) !== null },
  { type: 'secret.anthropic', pattern: /(?<![\w-])sk-ant-(?:api|admin|oat|ort)\d{2}-[A-Za-z0-9_-]{32,}(?![\w-])/g },
  { type: 'secret.openai', pattern: /(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}(?![\w-])/g, validate: hasDigitAndLetter },
  { type: 'secret.aws_access_key', pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  {
    type: 'secret.aws_secret_key',
    pattern: /aws_?secret_?access_?key["']?\s{0,3}[:=]{1,2}\s{0,3}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 1
  },
  { type: 'secret.github', pattern: /(?<!\w)(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251}(?!\w)/g },
  { type: 'secret.github', pattern: /(?<!\w)github_pat_[A-Za-z0-9_]{22,244}(?!\w)/g },
  { type: 'secret.slack', pattern: /(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,250}(?![\w-])/g },
  { type: 'secret.slack_webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{4,20}\/B[A-Z0-9]{4,20}\/[A-Za-z0-9]{16,40}/g },
  { type: 'secret.google_api_key', pattern: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { type: 'secret.stripe', pattern: /(?<!\w)(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}(?!\w)/g },
  { type: 'secret.jwt', pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![\w-])/g, validate: jwtHeaderValid },
  { type: 'secret.bearer', pattern: /\bbearer\s{1,4}([A-Za-z0-9._~+/-]{16,}=*)/dgi, group: 1, validate: hasDigitAndLetter },
  {
    type: 'secret.generic',
    pattern: /\b(?:api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password|passwd)["']?\s{0,3}[:=]{1,2}\s{0,3}["']?([^\s"'`,;]{8,200})/dgi,
    group: 1,
    validate: genericValid
  }
]

/**
 * Cheap prefilter, run on the ASCII-lower-cased text: a text without any of these literals
 * cannot match a rule (PEM included), so ordinary prose costs one regex pass. Lower-casing
 * first lets this regex be case-sensitive, which V8 scans several times faster.
 */
export const secretTrigger = /sk[-_]|rk_|akia|asia|abia|acca|a3t|aws|gh[pousr]_|github_pat_|xox|hooks\.slack|aiza|eyj|bearer|api.?key|secret|token|passw|-----begin|pcl_/
