import type { KeyRecord } from '../store/store.ts'

export interface KeyCacheOptions {
  readonly load: (id: string) => Promise<KeyRecord | null>
  /** How long a found key is served from memory; 0 disables caching. */
  readonly ttlMs: number
  /** How long an unknown id is remembered (short: a key created on another instance must appear soon). */
  readonly negativeTtlMs: number
  readonly maxEntries: number
  readonly now: () => number
}

/** Memoised key lookups with single-flight loading and immediate local invalidation. */
export interface KeyCache {
  get (id: string): Promise<KeyRecord | null>
  /** The cached answer without loading: a record, null (known unknown), or undefined (not cached). */
  peek (id: string): KeyRecord | null | undefined
  /** Drops the entry and any load in flight, so the next `get` reads the store. */
  invalidate (id: string): void
}

interface Entry {
  readonly record: KeyRecord | null
  readonly until: number
}

export function createKeyCache (options: KeyCacheOptions): KeyCache {
  const { load, ttlMs, negativeTtlMs, maxEntries, now } = options
  const entries = new Map<string, Entry>()
  const inflight = new Map<string, Promise<KeyRecord | null>>()

  function remember (id: string, record: KeyRecord | null): void {
    const ttl = record === null ? negativeTtlMs : ttlMs
    if (ttl <= 0) return
    entries.delete(id)
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (oldest.done !== true) entries.delete(oldest.value)
    }
    entries.set(id, { record, until: now() + ttl })
  }

  function loadOnce (id: string): Promise<KeyRecord | null> {
    const pending: Promise<KeyRecord | null> = load(id).then((record) => {
      // invalidate() removed this load: a revoke happened meanwhile, so its result must not be kept.
      if (inflight.get(id) === pending) remember(id, record)
      return record
    }).finally(() => {
      if (inflight.get(id) === pending) inflight.delete(id)
    })
    inflight.set(id, pending)
    return pending
  }

  function peek (id: string): KeyRecord | null | undefined {
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
    }
  }
}
