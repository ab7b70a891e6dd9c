import type { LimitState } from './counter-store.ts'

/**
 * OpenAI's rate-limit headers from the limits that applied: for requests and for tokens, the
 * tightest one (least remaining). `reset` uses OpenAI's duration format (`1s`, `6m0s`, `20ms`).
 * No header is sent for a kind no limit covers.
 */
export function rateLimitHeaders (states: readonly LimitState[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [kind, suffix] of [['requests', 'requests'], ['tokens', 'tokens']] as const) {
    let tightest: LimitState | null = null
    for (const state of states) {
      if (state.kind === kind && (tightest === null || state.remaining < tightest.remaining)) tightest = state
    }
    if (tightest === null) continue
    headers[`x-ratelimit-limit-${suffix}`] = String(tightest.limit)
    headers[`x-ratelimit-remaining-${suffix}`] = String(Math.max(0, Math.floor(tightest.remaining)))
    headers[`x-ratelimit-reset-${suffix}`] = formatReset(tightest.resetMs)
  }
  return headers
}

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
