const units: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 }

/**
 * Parses a duration such as `30s`, `15m`, `24h` or `7d` into whole seconds.
 * A unit is required so that `24` is never silently read as seconds when hours were meant.
 */
export function parseDuration (text: string): number {
  const match = /^(\d{1,12})([smhd])$/.exec(text.trim())
  if (match === null) {
    throw new Error(`invalid duration "${text}": use a whole number followed by s, m, h or d (e.g. 30s, 15m, 24h, 7d)`)
  }
  const seconds = Number(match[1]) * (units[match[2] as string] as number)
  if (!Number.isSafeInteger(seconds)) throw new Error(`invalid duration "${text}": too large`)
  return seconds
}
