/**
 * Model name patterns: an exact name, or a prefix ending in `*` (`qwen2.5-*`), or `*` alone.
 * Used by model allowlists on credentials and by the model → upstream map.
 */
export function modelMatches (pattern: string, model: string): boolean {
  if (pattern.endsWith('*')) return model.startsWith(pattern.slice(0, -1))
  return pattern === model
}

/** True when the allowlist is null (no restriction) or one of its patterns matches. */
export function modelAllowed (allowlist: readonly string[] | null, model: string): boolean {
  if (allowlist === null) return true
  for (const pattern of allowlist) if (modelMatches(pattern, model)) return true
  return false
}
