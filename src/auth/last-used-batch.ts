import type { KeyStore } from '../store/store.ts'
import type { Logger } from '../pipeline/context.ts'

export interface LastUsedBatchOptions {
  readonly store: KeyStore
  readonly flushMs: number
  readonly log: Logger
}

/** Collects `last_used_at` in memory and writes it in one batch per interval, never per request. */
export interface LastUsedBatch {
  touch (id: string, at: number): void
  /** Writes what was collected; a failed write is kept for the next attempt. */
  flush (): Promise<void>
  /** Stops the timer and flushes once more. */
  close (): Promise<void>
}

export function createLastUsedBatch (options: LastUsedBatchOptions): LastUsedBatch {
  const { store, log } = options
  let pending = new Map<string, number>()
  let flushing: Promise<void> = Promise.resolve()

  async function write (): Promise<void> {
    if (pending.size === 0) return
    const batch = pending
    pending = new Map()
    try {
      await store.touchLastUsed([...batch].map(([id, at]) => ({ id, at })))
    } catch (err) {
      for (const [id, at] of batch) touch(id, at)
      log.warn({ err, keys: batch.size }, 'writing last_used_at failed; will retry')
    }
  }

  function touch (id: string, at: number): void {
    const known = pending.get(id)
    if (known === undefined || known < at) pending.set(id, at)
  }

  function flush (): Promise<void> {
    flushing = flushing.then(write)
    return flushing
  }

  const timer = setInterval(() => { void flush() }, options.flushMs)
  timer.unref()

  return {
    touch,
    flush,
    async close () {
      clearInterval(timer)
      await flush()
    }
  }
}
