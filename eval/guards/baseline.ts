/**
 * The naive keyword baseline the report compares against: what a first attempt with a handful
 * of regexes over the raw text looks like (no normalisation, no checksums, no context).
 */
const injectionKeywords = /ignore (?:all )?previous instructions|disregard (?:the )?previous|system prompt|system:|<\|im_start\|>|exec\(|忽略之前的指令|系统提示/i

export function baselineInjection (text: string): boolean {
  return injectionKeywords.test(text)
}

const piiKeywords: ReadonlyArray<readonly [string, RegExp]> = [
  ['email', /\S+@\S+\.\S+/],
  ['phone', /\+\d{6,14}|\b1[3-9]\d{9}\b/],
  ['payment_card', /\b(?:\d[ -]?){12,18}\d\b/],
  ['iban', /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b/],
  ['us_ssn', /\b\d{3}-\d{2}-\d{4}\b/],
  ['cn_resident_id', /\b\d{17}[\dXx]\b/]
]

const secretKeywords: ReadonlyArray<readonly [string, RegExp]> = [
  ['secret.openai', /sk-[A-Za-z0-9_-]{20,}/],
  ['secret.anthropic', /sk-ant-[A-Za-z0-9_-]{20,}/],
  ['secret.aws_access_key', /AKIA[0-9A-Z]{16}/],
  ['secret.github', /gh[pos]_[A-Za-z0-9]{36}|github_pat_/],
  ['secret.slack', /xox[bp]-/],
  ['secret.google_api_key', /AIza[0-9A-Za-z_-]{35}/],
  ['secret.stripe', /[sr]k_(?:live|test)_[0-9A-Za-z]+/],
  ['secret.jwt', /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/],
  ['secret.private_key', /-----BEGIN [A-Z ]*KEY-----/],
  ['secret.portcullis', /pcl_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}/]
]

function typesMatching (rules: ReadonlyArray<readonly [string, RegExp]>, text: string): Set<string> {
  const found = new Set<string>()
  for (const [type, pattern] of rules) if (pattern.test(text)) found.add(type)
  return found
}

export function baselinePii (text: string): Set<string> {
  return typesMatching(piiKeywords, text)
}

export function baselineSecrets (text: string): Set<string> {
  return typesMatching(secretKeywords, text)
}
