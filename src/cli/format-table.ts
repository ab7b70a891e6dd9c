/** Left-aligned columns separated by two spaces, with a header row. */
export function formatTable (headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)]
}

/** `label: value` lines with aligned values. */
export function formatDetails (pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${(label + ':').padEnd(width + 1)}  ${value}`)
}

/** Unix seconds → `2025-01-31 12:00:00Z`; null → `-`. */
export function formatTime (seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '-'
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}
