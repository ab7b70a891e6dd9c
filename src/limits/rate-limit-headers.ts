import type { LimitState } from './counter-store.ts'

/**
 * OpenAI's rate-limit headers from the limits that applied: for requests and for tokens, the
 * tightest one (least remaining). `reset` uses OpenAI's duration format (`1s`, `6m0s`, `20ms`).
 * No header is sent for a kind no limit covers. Written into `headers` (default a new object).
 */
export function rateLimitHeaders (states: readonly LimitState[], headers: Record<string, string> = {}): Record<string, string> {
  let requests: LimitState | null = null
  let tokens: LimitState | null = null
  for (const state of states) {
    if (state.kind === 'requests') requests = tighter(requests, state)
    else if (state.kind === 'tokens') tokens = tighter(tokens, state)
  }
  if (requests !== null) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit)
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(requests.remaining)))
    headers['x-ratelimit-reset-requests'] = formatReset(requests.resetMs)
  }
  if (tokens !== null) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit)
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(tokens.remaining)))
    headers['x-ratelimit-reset-tokens'] = formatReset(tokens.resetMs)
  }
  return headers
}

const tighter = (current: LimitState | null, state: LimitState): LimitState =>
  current === null || state.remaining < current.remaining ? state : current

/** `0ms`, `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s` — the format of OpenAI's reset headers. */
export function formatReset (ms: number): string {
  const total = Math.max(0, Math.ceil(ms))
  if (total < 1000) return `${total}ms`
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor((total % 3_600_000) / 60_000)
  const seconds = (total % 60_000) / 1000
  const s = Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(3).replace(/0+$/, '')
  if (hours > 0) return `${hours}h${minutes}m${s}s`
  if (minutes > 0) return `${minutes}m${s}s`
  return `${s}s`
}
