export interface RecordCacheOptions<T> {
  readonly load: (id: string) => Promise<T | null>
  /** How long a found record is served from memory; 0 disables caching. */
  readonly ttlMs: number
  /** How long an unknown id is remembered (short: a record created on another instance must appear soon). */
  readonly negativeTtlMs: number
  readonly maxEntries: number
  readonly now: () => number
}

/**
 * Memoised lookups by id (API keys, OAuth clients) with single-flight loading and immediate
 * local invalidation. Bounded; the oldest entry goes first.
 */
export interface RecordCache<T> {
  get (id: string): Promise<T | null>
  /** The cached answer without loading: a record, null (known unknown), or undefined (not cached). */
  peek (id: string): T | null | undefined
  /** Drops the entry and any load in flight, so the next `get` reads the store. */
  invalidate (id: string): void
  /** Drops everything (after a missed change broadcast). */
  clear (): void
}

interface Entry<T> {
  readonly record: T | null
  readonly until: number
}

export function createRecordCache<T> (options: RecordCacheOptions<T>): RecordCache<T> {
  const { load, ttlMs, negativeTtlMs, maxEntries, now } = options
  const entries = new Map<string, Entry<T>>()
  const inflight = new Map<string, Promise<T | null>>()

  function remember (id: string, record: T | null): void {
    const ttl = record === null ? negativeTtlMs : ttlMs
    if (ttl <= 0) return
    entries.delete(id)
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (oldest.done !== true) entries.delete(oldest.value)
    }
    entries.set(id, { record, until: now() + ttl })
  }

  function loadOnce (id: string): Promise<T | null> {
    const pending: Promise<T | null> = load(id).then((record) => {
      // invalidate() removed this load: a change happened meanwhile, so its result must not be kept.
      if (inflight.get(id) === pending) remember(id, record)
      return record
    }).finally(() => {
      if (inflight.get(id) === pending) inflight.delete(id)
    })
    inflight.set(id, pending)
    return pending
  }

  function peek (id: string): T | null | undefined {
    const entry = entries.get(id)
    if (entry === undefined) return undefined
    if (entry.until > now()) return entry.record
    entries.delete(id)
    return undefined
  }

  return {
    peek,
    get (id) {
      const cached = peek(id)
      if (cached !== undefined) return Promise.resolve(cached)
      return inflight.get(id) ?? loadOnce(id)
    },
    invalidate (id) {
      entries.delete(id)
      inflight.delete(id)
    },
    clear () {
      entries.clear()
      inflight.clear()
    }
  }
}
