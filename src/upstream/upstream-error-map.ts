import { GatewayError } from '../errors/gateway-error.ts'

/** Transport failures that mean "the upstream was too slow", as opposed to unreachable. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

/** Only a plain field path survives into `param`; anything else could carry upstream content. */
const PLAIN_PARAM = /^[A-Za-z_][A-Za-z0-9_.[\]]{0,63}$/

/**
 * Maps a transport failure (refused, reset, DNS, TLS, timeouts, abort) to a catalogued error.
 * The original error stays in `cause` for the server log only: its message may name the host.
 */
export function errorForTransport (err: unknown, signal?: AbortSignal): GatewayError {
  if (err instanceof GatewayError) return err
  if (signal?.aborted === true) {
    return new GatewayError('upstream_error', { message: 'The request was cancelled before the upstream provider finished.', cause: err })
  }
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return new GatewayError('upstream_timeout', { cause: err })
  return new GatewayError('upstream_error', { cause: err })
}

/**
 * Maps an upstream error status to what the caller sees. The upstream body is never copied:
 * it may echo our provider key or name internal hosts. Only a plain `param` is kept, and not
 * when it holds `providerKey` (keys like Groq's `gsk_…` look like a field path).
 * 401/403 mean our provider key is wrong, which is not the caller's fault: 502.
 */
export function errorForUpstreamStatus (status: number, retryAfter: string | null, body: unknown, providerKey: string | null = null): GatewayError {
  const cause = new Error(`upstream answered HTTP ${status}`)
  if (status === 429) {
    const headers: Record<string, string> = /^\d{1,6}$/.test(retryAfter ?? '') ? { 'retry-after': retryAfter as string } : {}
    return new GatewayError('rate_limit_exceeded', { headers, cause })
  }
  if (status === 400 || status === 404 || status === 409 || status === 422) {
    return new GatewayError('invalid_request', {
      status,
      message: `The upstream provider rejected the request (HTTP ${status}).`,
      param: plainParam(body, providerKey),
      cause
    })
  }
  if (status === 413) return new GatewayError('request_too_large', { cause })
  if (status === 408 || status === 504) return new GatewayError('upstream_timeout', { cause })
  return new GatewayError('upstream_error', { cause })
}

function plainParam (body: unknown, providerKey: string | null): string | null {
  if (body === null || typeof body !== 'object') return null
  const error = (body as { error?: unknown }).error
  if (error === null || typeof error !== 'object') return null
  const param = (error as { param?: unknown }).param
  if (typeof param !== 'string' || !PLAIN_PARAM.test(param)) return null
  if (providerKey === null || providerKey === '') return param
  // A piece of the key (an upstream that shortens what it quotes) is dropped too.
  return param.includes(providerKey) || (param.length >= 16 && providerKey.includes(param)) ? null : param
}
