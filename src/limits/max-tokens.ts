import type { Endpoint } from '../pipeline/context.ts'
import { GatewayError } from '../errors/gateway-error.ts'

/**
 * The output a request asks for, read before forwarding so it can be reserved against token
 * limits and budgets. Only the fields that size the output are validated here; the upstream
 * validates the rest.
 */

function field (body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined
}

/** A positive safe integer, absent (null), or a 400 naming the field. */
function positiveInteger (body: unknown, name: string): number | null {
  const value = field(body, name)
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new GatewayError('invalid_request', { param: name, message: `${name} must be a positive integer.` })
  }
  return value
}

/**
 * How many completions the upstream generates and bills: `n` (chat and completions), or for
 * completions `best_of` when larger (OpenAI generates `best_of` server-side and bills them all,
 * returning `n`). 0 for embeddings and models, which produce no output.
 */
export function completionCount (endpoint: Endpoint, body: unknown): number {
  if (endpoint === 'embeddings' || endpoint === 'models') return 0
  const n = positiveInteger(body, 'n') ?? 1
  if (endpoint !== 'completions') return n
  return Math.max(n, positiveInteger(body, 'best_of') ?? 1)
}

/**
 * The output tokens to reserve: the request's own cap times completionCount, saturating at
 * Number.MAX_SAFE_INTEGER; 0 for embeddings; null when the request sets no cap (the limits
 * stage then applies its configured cap, times completionCount).
 *
 * Chat reads `max_completion_tokens` (the current field) and `max_tokens` (deprecated, still
 * honoured by many OpenAI-compatible servers). When both are set the larger one is reserved: an
 * upstream that honours either one then stays within the reservation.
 */
export function requestedMaxTokens (endpoint: Endpoint, body: unknown): number | null {
  const count = completionCount(endpoint, body)
  if (count === 0) return 0
  const legacy = positiveInteger(body, 'max_tokens')
  const current = endpoint === 'chat.completions' ? positiveInteger(body, 'max_completion_tokens') : null
  const cap = current === null ? legacy : Math.max(current, legacy ?? 0)
  if (cap === null) return null
  return Math.min(cap * count, Number.MAX_SAFE_INTEGER)
}
