import type { UpstreamUsage } from './provider.ts'

/** Counts above this are treated as an upstream bug and clamped, so one response cannot wreck a budget. */
export const MAX_REPORTED_TOKENS = 10_000_000

function tokenCount (value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return null
  return Math.min(value, MAX_REPORTED_TOKENS)
}

/**
 * Reads an OpenAI `usage` object. `prompt_tokens` must be a non-negative integer, and so must
 * `completion_tokens` except for embeddings, which have none (0). Anything else means the
 * upstream's usage cannot be trusted: null (missing).
 */
export function readUsage (usage: unknown, embeddings = false): UpstreamUsage | null {
  if (usage === null || typeof usage !== 'object') return null
  const { prompt_tokens: prompt, completion_tokens: completion } = usage as Record<string, unknown>
  const inputTokens = tokenCount(prompt)
  if (inputTokens === null) return null
  if (embeddings && completion === undefined) return { inputTokens, outputTokens: 0 }
  const outputTokens = tokenCount(completion)
  return outputTokens === null ? null : { inputTokens, outputTokens }
}

/** The `usage` of a response body or stream chunk, if any. */
export function usageOf (body: unknown, embeddings = false): UpstreamUsage | null {
  if (body === null || typeof body !== 'object') return null
  return readUsage((body as Record<string, unknown>).usage, embeddings)
}
