import { GatewayError } from '../errors/gateway-error.ts'
import type { AcquireResult, BudgetMovement, CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import { acquireResult, assertActuals, assertChecks, RESERVATION_TTL_MS } from './counter-checks.ts'
import { blankEvaluation, commit, evaluate, settleAll, size, sweep, untouched, type Counters, type Evaluation } from './memory-counter-ops.ts'

export interface MemoryCounterStoreOptions {
  /** The clock, epoch ms (tests inject one). */
  readonly now?: () => number
  /**
   * The most entries held at once: rate, concurrency and budget counters plus open
   * reservations (default 10⁶). Idle entries are dropped first; when live ones still fill
   * it, acquire fails closed (503) rather than forgetting a counter someone is limited by.
   */
  readonly maxKeys?: number
}

/**
 * Counters for one instance. `acquire` evaluates every check and then commits all or none in
 * one synchronous run: JavaScript is single-threaded and nothing is awaited between the check
 * and the write, so no other acquire can interleave — that is the whole atomicity argument.
 */
export function createMemoryCounterStore (options: MemoryCounterStoreOptions = {}): CounterStore {
  const now = options.now ?? Date.now
  const maxKeys = options.maxKeys ?? 1_000_000
  const c: Counters = { requests: new Map(), tokens: new Map(), leases: new Map(), budgets: new Map(), open: new Map() }
  let closed = false
  let opsSinceSweep = 0
  let reservations = 0
  const pool: Evaluation[] = []
  const assertOpen = (): void => {
    if (closed) throw new Error('the counter store is closed')
  }
  const makeRoom = (t: number, adds: number): void => {
    if (size(c) + adds <= maxKeys) return
    sweep(c, t)
    if (size(c) + adds > maxKeys) {
      throw new GatewayError('service_unavailable', { cause: new Error(`memory counter store: ${maxKeys} live counters (maxKeys) reached`) })
    }
  }

  function acquireNow (checks: readonly LimitCheck[]): AcquireResult {
    assertOpen()
    assertChecks(checks)
    // Unique within this store, which is all a memory reservation needs; short enough to stay a
    // flat string (no concatenation to flatten before every Map lookup).
    const id = `m${(++reservations).toString(36)}`
    if (checks.length === 0) return acquireResult(checks, [], id)
    const t = now()
    // Amortised O(1): one full pass per `size` operations.
    if (++opsSinceSweep >= Math.max(1024, size(c))) {
      opsSinceSweep = 0
      sweep(c, t)
    }
    while (pool.length < checks.length) pool.push(blankEvaluation())
    // The pool is longer than `checks` after a larger acquire: the result reads only its prefix.
    const evaluations = pool
    let taken = true
    let adds = 1
    for (let i = 0; i < checks.length; i++) {
      const e = evaluations[i] as Evaluation
      evaluate(c, checks[i] as LimitCheck, t, e)
      if (!e.pass) taken = false
      if (e.adds) adds++
    }
    if (taken) {
      makeRoom(t, adds)
      for (let i = 0; i < checks.length; i++) commit(c, checks[i] as LimitCheck, evaluations[i] as Evaluation, t, id)
      c.open.set(id, t + RESERVATION_TTL_MS)
    } else {
      for (let i = 0; i < checks.length; i++) untouched(checks[i] as LimitCheck, evaluations[i] as Evaluation, t)
    }
    return acquireResult(checks, evaluations, id)
  }

  function settleNow (reservation: Reservation, actual: ReadonlyMap<string, number>): readonly BudgetMovement[] {
    assertOpen()
    assertActuals(actual)
    const t = now()
    const lapsesAt = c.open.get(reservation.id)
    if (lapsesAt === undefined) return []
    c.open.delete(reservation.id)
    if (lapsesAt <= t) return []
    return settleAll(c, reservation, actual, t)
  }

  return {
    kind: 'memory',
    acquireNow,
    settleNow,
    async acquire (checks) {
      return acquireNow(checks)
    },
    async settle (reservation, actual) {
      return settleNow(reservation, actual)
    },
    async seedBudget (key, spentMicroUsd, resetAt) {
      assertOpen()
      const entry = c.budgets.get(key)
      if (entry !== undefined && (entry.resetAt === null || entry.resetAt > now())) return
      if (resetAt <= now()) return
      makeRoom(now(), 1)
      c.budgets.set(key, { spent: Math.max(0, Math.ceil(spentMicroUsd)), resetAt })
    },
    async peekBudgets (keys) {
      assertOpen()
      const t = now()
      return new Map(keys.map((key) => {
        const entry = c.budgets.get(key)
        return [key, entry === undefined || (entry.resetAt !== null && entry.resetAt <= t) ? 0 : entry.spent]
      }))
    },
    async ping () {
      assertOpen()
    },
    async close () {
      closed = true
      for (const map of [c.requests, c.tokens, c.leases, c.budgets, c.open]) map.clear()
    }
  }
}
