import { GatewayError } from '../errors/gateway-error.ts'
import type { BudgetMovement, CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import { acquireResult, assertActuals, assertChecks, newReservationId, RESERVATION_TTL_MS, type CheckOutcome } from './counter-checks.ts'
import { gcraAcquire, gcraDebt, gcraDrainMs, gcraRemaining, gcraSettle, gcraShape, type GcraState } from './gcra.ts'

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

interface BudgetEntry { readonly spent: number, readonly resetAt: number | null }

/**
 * One check evaluated at one instant, as plain data (no closures: this runs for every check of
 * every request). `commit` applies it, only once every check has passed; `remaining` and
 * `resetMs` are filled in then, for the state taken or left untouched.
 */
interface Evaluation extends CheckOutcome {
  pass: boolean
  retryAfterMs: number | null
  remaining: number
  resetMs: number
  /** Whether committing creates an entry (for the key budget). */
  readonly adds: boolean
  /** requests/tokens: the debt after taking; budget: the spend after taking. */
  readonly next: number
  /** requests/tokens: the debt as it is now; budget: the spend as it is now; concurrency: slots held. */
  readonly current: number
  /** requests/tokens: ticks per ms of the shape; concurrency: the earliest lease expiry. */
  readonly aux: number
}

/** Everything the adapter holds. */
interface Counters {
  // Requests and tokens are counted apart even under one key, as the Redis adapter's key names do.
  readonly requests: Map<string, GcraState>
  readonly tokens: Map<string, GcraState>
  /** Concurrency key → reservation id → lease expiry. */
  readonly leases: Map<string, Map<string, number>>
  readonly budgets: Map<string, BudgetEntry>
  /** Reservation id → when its right to be settled lapses. Settle deletes it: idempotence. */
  readonly open: Map<string, number>
}

const size = (c: Counters): number => c.requests.size + c.tokens.size + c.leases.size + c.budgets.size + c.open.size
const rateMap = (c: Counters, check: LimitCheck): Map<string, GcraState> => check.kind === 'tokens' ? c.tokens : c.requests

/** Drops what no longer counts: replenished, released, lapsed or past its period. */
function sweep (c: Counters, t: number): void {
  for (const map of [c.requests, c.tokens]) {
    for (const [key, state] of map) if (state.debt - (t - state.at) * state.tick <= 0) map.delete(key)
  }
  for (const [key, held] of c.leases) {
    for (const [id, expiresAt] of held) if (expiresAt <= t) held.delete(id)
    if (held.size === 0) c.leases.delete(key)
  }
  for (const [key, entry] of c.budgets) if (entry.resetAt !== null && entry.resetAt <= t) c.budgets.delete(key)
  for (const [id, expiresAt] of c.open) if (expiresAt <= t) c.open.delete(id)
}

function evaluation (pass: boolean, retryAfterMs: number | null, adds: boolean, next: number, current: number, aux: number): Evaluation {
  return { pass, retryAfterMs, remaining: 0, resetMs: 0, adds, next, current, aux }
}

function evaluateRate (c: Counters, check: LimitCheck, t: number): Evaluation {
  const shape = gcraShape(check.limit, check.windowMs)
  const map = rateMap(c, check)
  const state = map.get(check.key)
  const debt = gcraDebt(state, shape, t)
  const needed = debt + check.cost * shape.interval
  if (needed <= shape.tolerance) return evaluation(true, 0, state === undefined, needed, debt, shape.tick)
  const decision = gcraAcquire(debt, shape, check.cost)
  return evaluation(false, decision.retryAfterMs, state === undefined, debt, debt, shape.tick)
}

function evaluateConcurrency (c: Counters, check: LimitCheck, t: number): Evaluation {
  const held = c.leases.get(check.key)
  let earliest = Infinity
  if (held !== undefined) {
    // Leases of one key are taken in time order with the same length, so the map (insertion
    // ordered) is ordered by expiry: drop lapsed ones from the front, the first live one is the
    // earliest. O(lapsed), not O(held), per request. (A clock stepping back could leave a
    // lapsed lease behind a live one for a while: it then holds its slot longer, never less.)
    for (const [other, expiresAt] of held) {
      if (expiresAt > t) { earliest = expiresAt; break }
      held.delete(other)
    }
    if (held.size === 0) c.leases.delete(check.key)
  }
  const count = held?.size ?? 0
  const wait = earliest === Infinity ? 0 : earliest - t
  const pass = check.cost <= check.limit && count + check.cost <= check.limit
  // The earliest lease to lapse bounds the wait; a settlement usually frees a slot sooner.
  return evaluation(pass, check.cost > check.limit ? null : wait, !c.leases.has(check.key), count + check.cost, count, earliest)
}

function evaluateBudget (c: Counters, check: LimitCheck, t: number): Evaluation {
  const entry = c.budgets.get(check.key)
  if (entry !== undefined && entry.resetAt !== null && entry.resetAt <= t) c.budgets.delete(check.key)
  const resetAt = check.resetAt ?? null
  // A check whose own period is over counts against nothing (see docs/limits.md, "Redis").
  const ended = resetAt !== null && resetAt <= t
  const spent = ended ? 0 : c.budgets.get(check.key)?.spent ?? 0
  const pass = check.cost <= check.limit && spent + check.cost <= check.limit
  const retryAfterMs = check.cost > check.limit || resetAt === null ? null : Math.max(0, resetAt - t)
  return evaluation(pass, retryAfterMs, !c.budgets.has(check.key), ended ? -1 : spent + check.cost, spent, 0)
}

function evaluate (c: Counters, check: LimitCheck, t: number): Evaluation {
  if (check.kind === 'budget') return evaluateBudget(c, check, t)
  if (check.kind === 'concurrency') return evaluateConcurrency(c, check, t)
  return evaluateRate(c, check, t)
}

/** Applies a passed evaluation and records the state after taking. */
function commit (c: Counters, check: LimitCheck, e: Evaluation, t: number, id: string): void {
  if (check.kind === 'budget') {
    if (e.next >= 0) c.budgets.set(check.key, { spent: e.next, resetAt: check.resetAt ?? null })
    e.remaining = Math.max(0, check.limit - e.current - check.cost)
    e.resetMs = check.resetAt === undefined ? 0 : Math.max(0, check.resetAt - t)
  } else if (check.kind === 'concurrency') {
    let slots = c.leases.get(check.key)
    if (slots === undefined) c.leases.set(check.key, slots = new Map())
    slots.set(id, t + check.windowMs)
    e.remaining = check.limit - e.next
    e.resetMs = Math.min(e.aux, t + check.windowMs) - t
  } else {
    const shape = gcraShape(check.limit, check.windowMs)
    const map = rateMap(c, check)
    if (e.next > 0) map.set(check.key, { at: t, debt: e.next, tick: e.aux })
    else map.delete(check.key)
    e.remaining = gcraRemaining(e.next, shape)
    e.resetMs = gcraDrainMs(e.next, shape)
  }
}

/** Records the state left untouched (the request was refused by some check). */
function untouched (check: LimitCheck, e: Evaluation, t: number): void {
  if (check.kind === 'budget') {
    e.remaining = Math.max(0, check.limit - e.current)
    e.resetMs = check.resetAt === undefined ? 0 : Math.max(0, check.resetAt - t)
  } else if (check.kind === 'concurrency') {
    e.remaining = check.limit - e.current
    e.resetMs = e.aux === Infinity ? 0 : e.aux - t
  } else {
    const shape = gcraShape(check.limit, check.windowMs)
    e.remaining = gcraRemaining(e.current, shape)
    e.resetMs = gcraDrainMs(e.current, shape)
  }
}

function settleBudget (c: Counters, check: LimitCheck, actual: number, t: number): BudgetMovement | null {
  const entry = c.budgets.get(check.key)
  // The period the reservation was made in is over (or the counter is another period's).
  if (entry === undefined || entry.resetAt !== (check.resetAt ?? null) || (entry.resetAt !== null && entry.resetAt <= t)) return null
  const before = Math.max(0, entry.spent - check.cost)
  const after = before + actual
  c.budgets.set(check.key, { spent: after, resetAt: entry.resetAt })
  return { key: check.key, limit: check.limit, before, after }
}

function settleRate (c: Counters, check: LimitCheck, actual: number, t: number): void {
  const shape = gcraShape(check.limit, check.windowMs)
  const map = rateMap(c, check)
  const debt = gcraSettle(gcraDebt(map.get(check.key), shape, t), shape, actual - check.cost)
  if (debt > 0) map.set(check.key, { at: t, debt, tick: shape.tick })
  else map.delete(check.key)
}

function settleAll (c: Counters, reservation: Reservation, actual: ReadonlyMap<string, number>, t: number): BudgetMovement[] {
  const movements: BudgetMovement[] = []
  for (const check of reservation.checks) {
    const value = actual.get(check.key)
    if (check.kind === 'concurrency') {
      const held = c.leases.get(check.key)
      held?.delete(reservation.id)
      if (held?.size === 0) c.leases.delete(check.key)
    } else if (check.kind === 'budget') {
      const movement = settleBudget(c, check, value ?? check.cost, t)
      if (movement !== null) movements.push(movement)
    } else if (value !== undefined && value !== check.cost) {
      settleRate(c, check, value, t)
    }
  }
  return movements
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

  return {
    kind: 'memory',
    async acquire (checks) {
      assertOpen()
      assertChecks(checks)
      const id = newReservationId()
      if (checks.length === 0) return acquireResult(checks, [], id)
      const t = now()
      // Amortised O(1): one full pass per `size` operations.
      if (++opsSinceSweep >= Math.max(1024, size(c))) {
        opsSinceSweep = 0
        sweep(c, t)
      }
      const evaluations: Evaluation[] = []
      let taken = true
      let adds = 1
      for (const check of checks) {
        const e = evaluate(c, check, t)
        evaluations.push(e)
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
    },
    async settle (reservation, actual) {
      assertOpen()
      assertActuals(actual)
      const t = now()
      const lapsesAt = c.open.get(reservation.id)
      if (lapsesAt === undefined) return []
      c.open.delete(reservation.id)
      if (lapsesAt <= t) return []
      return settleAll(c, reservation, actual, t)
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
