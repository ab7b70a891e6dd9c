/**
 * The catalogue of public error codes. Codes are public API: documented in docs/errors.md
 * (a test keeps the two in step), never renamed, never reused for another meaning.
 * Every entry fixes the HTTP status, the OpenAI-style `type` and a default message that
 * never contains request data.
 */
export interface ErrorSpec {
  readonly status: number
  readonly type: string
  readonly message: string
  /** One line for docs/errors.md: when a client sees this code. */
  readonly when: string
}

function spec (status: number, type: string, message: string, when: string): ErrorSpec {
  return Object.freeze({ status, type, message, when })
}

export const errorCatalogue = Object.freeze({
  missing_credentials: spec(401, 'authentication_error', 'No credentials were sent. Send "Authorization: Bearer <key>" or "x-api-key: <key>".',
    'No `Authorization: Bearer` or `x-api-key` header was sent.'),
  invalid_api_key: spec(401, 'authentication_error', 'The API key is not valid.',
    'The key is malformed, has a bad checksum, or is unknown.'),
  expired_credentials: spec(401, 'authentication_error', 'The credentials have expired.',
    'The key passed its `expires_at`, or a rotated secret passed its grace period.'),
  revoked_credentials: spec(401, 'authentication_error', 'The credentials have been revoked.',
    'The key was revoked by an administrator.'),
  invalid_token: spec(401, 'authentication_error', 'The access token is not valid.',
    'A bearer token that is not an API key could not be verified: bad signature, wrong `iss`/`aud`/`typ`, expired, revoked, or too large. The response carries `WWW-Authenticate: Bearer error="invalid_token"`.'),
  insufficient_scope: spec(403, 'permission_error', 'The credentials do not carry the scope this endpoint needs.',
    'The credential lacks the scope the endpoint requires (e.g. `chat`, `embeddings`, `admin:keys`).'),
  model_not_allowed: spec(403, 'permission_error', 'The credentials may not use this model.',
    'The requested model is outside the key\'s model allowlist.'),
  ip_not_allowed: spec(403, 'permission_error', 'Requests from this address are not allowed.',
    'The client IP is outside the credential\'s `allowed_ips` (or an IP rule).'),
  forbidden: spec(403, 'permission_error', 'This request is not allowed.',
    'The request is refused by policy for a reason not covered by a more specific code.'),
  not_found: spec(404, 'invalid_request_error', 'Not found.',
    'Unknown path, or an admin resource that does not exist (or is not visible to the caller).'),
  method_not_allowed: spec(405, 'invalid_request_error', 'Method not allowed.',
    'The path exists but not for this HTTP method.'),
  request_too_large: spec(413, 'invalid_request_error', 'The request body is too large.',
    'The body exceeds `limits.max_body_bytes` (default 1 MiB).'),
  unsupported_media_type: spec(415, 'invalid_request_error', 'The request body must be JSON (Content-Type: application/json).',
    'A body was sent with a content type other than `application/json`.'),
  invalid_request: spec(400, 'invalid_request_error', 'The request is not valid.',
    'Malformed JSON, duplicate JSON keys, a missing or mistyped field (named in `param`), or a bad admin API body.'),
  model_not_found: spec(404, 'invalid_request_error', 'The model does not exist or is not served by this gateway.',
    'No configured upstream serves the requested model.'),
  prompt_blocked: spec(400, 'invalid_request_error', 'The prompt was blocked by a content policy.',
    'An input guard blocked the request.'),
  content_blocked: spec(400, 'invalid_request_error', 'The response was blocked by a content policy.',
    'An output guard blocked the response.'),
  rate_limit_exceeded: spec(429, 'rate_limit_error', 'Rate limit exceeded. Retry after the time in the retry-after header.',
    'A request, token or concurrency limit is reached; `retry-after` says when to retry.'),
  too_many_failed_attempts: spec(429, 'rate_limit_error', 'Too many failed authentication attempts. Retry after the time in the retry-after header.',
    'Too many failed authentications came from this client IP (or for this client id); every request from it is refused for the cool-down, valid credentials or not.'),
  budget_exceeded: spec(429, 'insufficient_quota', 'The budget for these credentials is exhausted.',
    'A spend budget would be exceeded; `x-should-retry: false`.'),
  upstream_error: spec(502, 'api_error', 'The upstream provider could not be reached or returned an invalid response.',
    'The provider refused the connection, reset it, or answered with something that is not a valid response.'),
  service_unavailable: spec(503, 'api_error', 'The service is temporarily unavailable.',
    'A required dependency (store, Redis, audit sink) is down and the policy is to fail closed, or the gateway is shutting down.'),
  upstream_timeout: spec(504, 'api_error', 'The upstream provider did not answer in time.',
    'The provider did not send headers within `timeouts.headers_ms` or went silent for `timeouts.idle_ms`.'),
  internal_error: spec(500, 'api_error', 'An internal error occurred.',
    'A bug. The details are in the server log under the `x-request-id`, never in the response.')
} satisfies Record<string, ErrorSpec>)

export type ErrorCode = keyof typeof errorCatalogue
