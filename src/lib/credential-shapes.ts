/**
 * Credential shapes recognised in free text a caller controls — the user agent, metadata labels,
 * a model name — which the gateway records and logs. A caller that pastes a key there (an SDK
 * misconfigured to put it in the user agent, a key sent as the model) must not get it written to
 * the audit log or the server log. Shapes: Portcullis API keys (`pcl_`, docs/keys.md) and client
 * secrets (`pcs_`), JWTs (RFC 7519 §3: three base64url parts, the header starting `eyJ` = `{"`),
 * `Bearer`/`Basic` credentials, and the common provider key prefixes. Linear-time patterns: every
 * repetition is a single character class with no overlap with what follows.
 */
const CREDENTIAL = new RegExp([
  // Truncated ones too: part of a secret is still too much of it.
  'pcl_[0-9A-Za-z]{16}_[0-9A-Za-z]{16,}',
  'pcs_[0-9A-Za-z_-]{16,}',
  'eyJ[0-9A-Za-z_-]{4,}\\.[0-9A-Za-z_-]{4,}\\.[0-9A-Za-z_-]*',
  '(?:Bearer|Basic)\\s+[^\\s,;"]{8,}',
  '(?<![0-9A-Za-z])(?:sk|gsk|xai|pk|rk|ghp|xox[abp])[-_][0-9A-Za-z_-]{20,}'
].join('|'), 'g')

const REDACTED = '[redacted]'

/** `text` with every credential-shaped part replaced by `[redacted]`. */
export function redactCredentialShapes (text: string): string {
  CREDENTIAL.lastIndex = 0
  return CREDENTIAL.test(text) ? text.replace(CREDENTIAL, REDACTED) : text
}
