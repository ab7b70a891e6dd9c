import type { Logger } from '../pipeline/context.ts'
import type { UsageDelta, UsageStore } from '../store/store.ts'

export interface UsageRecorderOptions {
  readonly store: { readonly usage: UsageStore }
  readonly flushMs: number
  readonly log: Logger
  /** Cells held before an early flush; bounds memory whatever the traffic. Default 10,000. */
  readonly maxCells?: number
}

export interface UsageRecorder {
  /** Adds one request's usage to its (hour, key, client, tenant, model) cell. O(1), no I/O. */
  record (delta: UsageDelta): void
  flush (): Promise<void>
  close (): Promise<void>
}

const hourMs = 3_600_000

type Cell = { -readonly [K in keyof UsageDelta]: UsageDelta[K] }

/**
 * Usage leaves the request path through this: requests add to in-memory cells and a timer
 * writes them in one transaction every `flushMs` (and at shutdown). A failed write keeps the
 * cells for the next attempt, so usage is late rather than lost unless the process dies.
 */
export function createUsageRecorder (options: UsageRecorderOptions): UsageRecorder {
  const { store, log } = options
  const maxCells = options.maxCells ?? 10_000
  let cells = new Map<string, Cell>()
  let writing: Promise<void> | null = null

  async function writeOnce (): Promise<void> {
    if (cells.size === 0) return
    const batch = [...cells.values()]
    cells = new Map()
    try {
      await store.usage.add(batch)
    } catch (err) {
      log.error({ err, cells: batch.length }, 'writing usage failed; it is kept for the next attempt')
      for (const delta of batch) merge(delta, delta.hour)
    }
  }

  function flush (): Promise<void> {
    writing ??= writeOnce().finally(() => { writing = null })
    return writing
  }

  // Cells are this recorder's own copies, so adding to one in place is safe (no object per request).
  function merge (delta: UsageDelta, hour: number): void {
    const id = `${hour}|${delta.keyId ?? ''}|${delta.clientId ?? ''}|${delta.tenant ?? ''}|${delta.model}`
    const cell = cells.get(id)
    if (cell === undefined) {
      cells.set(id, { ...delta, hour })
      return
    }
    cell.requests += delta.requests
    cell.inputTokens += delta.inputTokens
    cell.outputTokens += delta.outputTokens
    cell.costMicroUsd += delta.costMicroUsd
  }

  const timer = setInterval(() => { flush().catch(() => {}) }, options.flushMs)
  timer.unref()
  return {
    record (delta) {
      merge(delta, Math.floor(delta.hour / hourMs) * hourMs)
      if (cells.size >= maxCells) flush().catch(() => {})
    },
    flush,
    async close () {
      clearInterval(timer)
      await flush()
      // A flush that was running when close began may have left cells behind: write them too.
      await flush()
    }
  }
}
