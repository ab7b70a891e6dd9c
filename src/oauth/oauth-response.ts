/**
 * Requests and responses of the OAuth endpoints, free of any HTTP framework: the server edge
 * parses the form body and writes these back. The OAuth endpoints answer in the RFC 6749 §5.2
 * error format (`{"error":"invalid_client"}`), not the OpenAI envelope, because OAuth client
 * libraries parse that format.
 */
export interface OAuthRequest {
  /** Lower-case header names, as Node's `IncomingHttpHeaders`. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** The `application/x-www-form-urlencoded` body, parsed; a repeated key gives an array. */
  readonly form: Readonly<Record<string, string | readonly string[] | undefined>>
  /** The client address as the edge resolved it (trusted proxies applied); checked against `OAuthClient.allowedIps`. */
  readonly ip?: string
}

export interface OAuthResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** JSON text, built with JSON.stringify. */
  readonly body: string
  /**
   * For the audit record only, never sent: the `jti` of the token this request issued, revoked
   * or introspected (never the token itself).
   */
  readonly target?: string
}

/** The RFC 6749 §5.2 error codes, plus RFC 7009 §2.2.1 `unsupported_token_type`. */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' |
  'unsupported_grant_type' | 'invalid_scope' | 'unsupported_token_type'

export const basicChallenge = 'Basic realm="portcullis"'

// RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache" on any response with tokens or
// credentials; sent on every OAuth response so that no error is cached either.
const noStore = Object.freeze({
  'content-type': 'application/json;charset=UTF-8',
  'cache-control': 'no-store',
  pragma: 'no-cache'
})

export function oauthJson (status: number, body: object, extraHeaders: Readonly<Record<string, string>> = {}): OAuthResponse {
  return { status, headers: { ...noStore, ...extraHeaders }, body: JSON.stringify(body) }
}

/**
 * An RFC 6749 §5.2 error. `description` is a fixed text from this code, never request data
 * (the grammar allows printable ASCII without `"` and `\`). `invalid_client` is 401 with a Basic
 * challenge whichever method the client used: §5.2 requires it after header authentication and
 * allows it otherwise, and RFC 9110 §15.5.2 requires a WWW-Authenticate field on every 401.
 */
export function oauthError (code: OAuthErrorCode, description: string): OAuthResponse {
  if (code === 'invalid_client') {
    return oauthJson(401, { error: code, error_description: description }, { 'www-authenticate': basicChallenge })
  }
  return oauthJson(400, { error: code, error_description: description })
}

type FormValue = { readonly ok: true, readonly value: string | null } | { readonly ok: false }

/**
 * One form parameter. RFC 6749 §3.1: an empty value counts as omitted, and a parameter must not
 * be sent more than once (the caller answers `invalid_request`).
 */
function formValue (form: OAuthRequest['form'], name: string): FormValue {
  const raw = Object.hasOwn(form, name) ? form[name] : undefined
  if (raw === undefined) return { ok: true, value: null }
  if (typeof raw !== 'string') {
    if (raw.length > 1) return { ok: false }
    const only = raw[0]
    return { ok: true, value: only === undefined || only === '' ? null : only }
  }
  return { ok: true, value: raw === '' ? null : raw }
}

/** Reads several parameters; null when any of them is repeated. */
export function formValues<K extends string> (form: OAuthRequest['form'], names: readonly K[]): Record<K, string | null> | null {
  const out = {} as Record<K, string | null>
  for (const name of names) {
    const field = formValue(form, name)
    if (!field.ok) return null
    out[name] = field.value
  }
  return out
}
