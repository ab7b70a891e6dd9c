/**
 * A bounded table of sliding-window failure logs with a cool-down, the mechanism under
 * failed-auth-throttle.ts. Times are epoch ms from the caller, so tests inject a clock.
 *
 * Each key keeps the timestamps of its last `limit` failures in a ring (a sliding-window log):
 * the key reaches the limit exactly when its `limit`-th most recent failure is younger than the
 * window, so there is no doubling at window edges as with fixed buckets, and the log never holds
 * more than `limit` numbers (it grows only as the key actually fails).
 *
 * Keys live in one of two Maps, both in the order that makes sweeping and eviction O(1) amortised:
 * - `counting`: not cooling down, re-inserted on every failure, so the head is the key whose last
 *   failure is oldest. A key whose last failure left the window is the same as an absent key and
 *   is dropped from the head.
 * - `cooling`: in cool-down, inserted when locked; the cool-down is a constant, so the head is the
 *   one that ends first. An ended one is dropped from the head, or when it is next looked up.
 * When the table is full, a new key evicts the head of `counting` (the oldest idle key); a key
 * in cool-down is evicted only when no other key is left, and then the one closest to its end.
 */

export interface SlidingCounterOptions {
  /** Failures within the window that start a cool-down. */
  readonly limit: number
  readonly windowMs: number
  readonly cooldownMs: number
  /** Keys held at most, cooling down or not. */
  readonly maxEntries: number
}

export interface HitResult {
  /** Failures of the key within the window, this one included; `limit` while cooling down. */
  readonly failures: number
  /** End of the key's cool-down (epoch ms), or null when it is not cooling down. */
  readonly lockedUntil: number | null
  /** True when this failure started the cool-down. */
  readonly lockedNow: boolean
}

export interface SlidingCounter {
  /** End of the key's cool-down (epoch ms) when it is cooling down at `t`, else null. O(1). */
  lockedUntil (key: string, t: number): number | null
  /** Counts one failure at `t`. A key already cooling down is not counted and not extended. */
  hit (key: string, t: number): HitResult
  /** Keys held, ended ones not yet dropped included. */
  size (): number
}

interface Entry {
  /** Failure times, a ring once it holds `limit` of them. */
  times: number[]
  /** Once the ring is full: the slot of the oldest time, which the next failure overwrites. */
  oldest: number
  lastFailure: number
  lockedUntil: number
}

export function createSlidingCounter (options: SlidingCounterOptions): SlidingCounter {
  const { limit, windowMs, cooldownMs, maxEntries } = options
  const counting = new Map<string, Entry>()
  const cooling = new Map<string, Entry>()

  // Drops heads that no longer matter; each key is dropped once, so O(1) amortised per hit.
  function sweep (t: number): void {
    for (const [key, entry] of cooling) {
      if (entry.lockedUntil > t) break
      cooling.delete(key)
    }
    for (const [key, entry] of counting) {
      if (entry.lastFailure > t - windowMs) break
      counting.delete(key)
    }
  }

  function makeRoom (): void {
    if (counting.size + cooling.size < maxEntries) return
    const victims = counting.size > 0 ? counting : cooling
    const head = victims.keys().next()
    if (head.done !== true) victims.delete(head.value)
  }

  function failuresWithin (entry: Entry, t: number): number {
    let n = 0
    for (const time of entry.times) if (time > t - windowMs) n++
    return n
  }

  return {
    lockedUntil (key, t) {
      const entry = cooling.get(key)
      if (entry === undefined) return null
      if (entry.lockedUntil > t) return entry.lockedUntil
      cooling.delete(key)
      return null
    },

    hit (key, t) {
      sweep(t)
      const cooled = cooling.get(key)
      if (cooled !== undefined) {
        // Not extended: an attacker failing on purpose must not keep a victim locked out forever.
        if (cooled.lockedUntil > t) return { failures: limit, lockedUntil: cooled.lockedUntil, lockedNow: false }
        cooling.delete(key)
      }
      let entry = counting.get(key)
      if (entry === undefined) {
        makeRoom()
        entry = { times: [], oldest: 0, lastFailure: t, lockedUntil: 0 }
      } else {
        counting.delete(key)
      }
      entry.lastFailure = t
      if (entry.times.length < limit) {
        entry.times.push(t)
      } else {
        entry.times[entry.oldest] = t
        entry.oldest = (entry.oldest + 1) % limit
      }
      const oldest = entry.times[entry.oldest] ?? t
      if (entry.times.length === limit && oldest > t - windowMs) {
        // After the cool-down the count starts afresh (the log is emptied now).
        entry.times = []
        entry.oldest = 0
        entry.lockedUntil = t + cooldownMs
        cooling.set(key, entry)
        return { failures: limit, lockedUntil: entry.lockedUntil, lockedNow: true }
      }
      counting.set(key, entry)
      return { failures: failuresWithin(entry, t), lockedUntil: null, lockedNow: false }
    },

    size: () => counting.size + cooling.size
  }
}
