/** Epoch ms → Unix seconds, as the admin API shows times (like the OpenAI API). */
export function unixSeconds (ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000)
}
