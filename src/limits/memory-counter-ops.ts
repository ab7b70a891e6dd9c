import type { BudgetMovement, LimitCheck, Reservation } from './counter-store.ts'
import type { CheckOutcome } from './counter-checks.ts'
import { gcraAcquire, gcraDebt, gcraDrainMs, gcraRemaining, gcraSettle, gcraShape, type GcraShape } from './gcra.ts'

/**
 * The memory adapter's state and the steps of one acquire and settle over it, as plain functions
 * over plain data (no closures: this runs for every check of every request).
 */

// Entries are this adapter's own and updated in place: one lookup per check, no object per update.
export interface BudgetEntry { spent: number, readonly resetAt: number | null }
export interface RateEntry { at: number, debt: number, tick: number }

/**
 * One check evaluated at one instant. `commit` applies it, only once every check has passed; `remaining` and
 * `resetMs` are filled in then, for the state taken or left untouched.
 */
export interface Evaluation extends CheckOutcome {
  pass: boolean
  retryAfterMs: number | null
  remaining: number
  resetMs: number
  /** Whether committing creates an entry (for the key budget). */
  adds: boolean
  /** requests/tokens: the debt after taking; budget: the spend after taking. */
  next: number
  /** requests/tokens: the debt as it is now; budget: the spend as it is now; concurrency: slots held. */
  current: number
  /** requests/tokens: ticks per ms of the shape; concurrency: the earliest lease expiry. */
  aux: number
  /** requests/tokens: the shape (computed once per check). */
  shape: GcraShape | null
  /** The entry found when evaluating, updated in place by `commit` (undefined: none yet). */
  rate: RateEntry | undefined
  budget: BudgetEntry | undefined
  held: Map<string, number> | undefined
}

/**
 * A blank evaluation. The adapter keeps a pool of them and refills them on every acquire: an
 * acquire runs to its end without yielding, and its result copies what it needs out of them.
 */
export function blankEvaluation (): Evaluation {
  return { pass: false, retryAfterMs: null, remaining: 0, resetMs: 0, adds: false, next: 0, current: 0, aux: 0, shape: null, rate: undefined, budget: undefined, held: undefined }
}

/** Everything the adapter holds. */
export interface Counters {
  // Requests and tokens are counted apart even under one key, as the Redis adapter's key names do.
  readonly requests: Map<string, RateEntry>
  readonly tokens: Map<string, RateEntry>
  /** Concurrency key → reservation id → lease expiry. */
  readonly leases: Map<string, Map<string, number>>
  readonly budgets: Map<string, BudgetEntry>
  /** Reservation id → when its right to be settled lapses. Settle deletes it: idempotence. */
  readonly open: Map<string, number>
}

export const size = (c: Counters): number => c.requests.size + c.tokens.size + c.leases.size + c.budgets.size + c.open.size
const rateMap = (c: Counters, check: LimitCheck): Map<string, RateEntry> => check.kind === 'tokens' ? c.tokens : c.requests

/** Drops what no longer counts: replenished, released, lapsed or past its period. */
export function sweep (c: Counters, t: number): void {
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

function fill (e: Evaluation, pass: boolean, retryAfterMs: number | null, adds: boolean, next: number, current: number, aux: number): void {
  e.pass = pass
  e.retryAfterMs = retryAfterMs
  e.remaining = 0
  e.resetMs = 0
  e.adds = adds
  e.next = next
  e.current = current
  e.aux = aux
}

function found (e: Evaluation, shape: GcraShape | null, rate: RateEntry | undefined, budget: BudgetEntry | undefined, held: Map<string, number> | undefined): void {
  e.shape = shape
  e.rate = rate
  e.budget = budget
  e.held = held
}

function evaluateRate (c: Counters, check: LimitCheck, t: number, e: Evaluation): void {
  // Also the validation of limit and window (RangeError): before anything is taken.
  const shape = gcraShape(check.limit, check.windowMs)
  const rate = rateMap(c, check).get(check.key)
  found(e, shape, rate, undefined, undefined)
  const debt = gcraDebt(rate, shape, t)
  const needed = debt + check.cost * shape.interval
  if (needed <= shape.tolerance) fill(e, true, 0, rate === undefined, needed, debt, shape.tick)
  else fill(e, false, gcraAcquire(debt, shape, check.cost).retryAfterMs, rate === undefined, debt, debt, shape.tick)
}

function evaluateConcurrency (c: Counters, check: LimitCheck, t: number, e: Evaluation): void {
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
  }
  const live = held === undefined || held.size === 0 ? undefined : held
  if (held !== undefined && live === undefined) c.leases.delete(check.key)
  const count = live?.size ?? 0
  const wait = earliest === Infinity ? 0 : earliest - t
  const pass = check.cost <= check.limit && count + check.cost <= check.limit
  // The earliest lease to lapse bounds the wait; a settlement usually frees a slot sooner.
  found(e, null, undefined, undefined, live)
  fill(e, pass, check.cost > check.limit ? null : wait, live === undefined, count + check.cost, count, earliest)
}

function evaluateBudget (c: Counters, check: LimitCheck, t: number, e: Evaluation): void {
  let entry = c.budgets.get(check.key)
  if (entry !== undefined && entry.resetAt !== null && entry.resetAt <= t) {
    c.budgets.delete(check.key)
    entry = undefined
  }
  const resetAt = check.resetAt ?? null
  // A check whose own period is over counts against nothing (see docs/limits.md, "Redis").
  const ended = resetAt !== null && resetAt <= t
  const spent = ended ? 0 : entry?.spent ?? 0
  const pass = check.cost <= check.limit && spent + check.cost <= check.limit
  const retryAfterMs = check.cost > check.limit || resetAt === null ? null : Math.max(0, resetAt - t)
  found(e, null, undefined, entry, undefined)
  fill(e, pass, retryAfterMs, entry === undefined, ended ? -1 : spent + check.cost, spent, 0)
}

/** Evaluates one check into `e`, taking nothing. */
export function evaluate (c: Counters, check: LimitCheck, t: number, e: Evaluation): void {
  if (check.kind === 'budget') evaluateBudget(c, check, t, e)
  else if (check.kind === 'concurrency') evaluateConcurrency(c, check, t, e)
  else evaluateRate(c, check, t, e)
}

/** Applies a passed evaluation and records the state after taking. */
export function commit (c: Counters, check: LimitCheck, e: Evaluation, t: number, id: string): void {
  if (check.kind === 'budget') {
    if (e.next >= 0) {
      // The entry found is of this period (evaluateBudget dropped an ended one).
      if (e.budget !== undefined && e.budget.resetAt === (check.resetAt ?? null)) e.budget.spent = e.next
      else c.budgets.set(check.key, { spent: e.next, resetAt: check.resetAt ?? null })
    }
    e.remaining = Math.max(0, check.limit - e.current - check.cost)
    e.resetMs = check.resetAt === undefined ? 0 : Math.max(0, check.resetAt - t)
  } else if (check.kind === 'concurrency') {
    let slots = e.held
    if (slots === undefined) c.leases.set(check.key, slots = new Map())
    slots.set(id, t + check.windowMs)
    e.remaining = check.limit - e.next
    e.resetMs = Math.min(e.aux, t + check.windowMs) - t
  } else {
    const shape = e.shape as GcraShape
    writeRate(c, check, e.rate, t, e.next, e.aux)
    e.remaining = gcraRemaining(e.next, shape)
    e.resetMs = gcraDrainMs(e.next, shape)
  }
}

/** Records the state left untouched (the request was refused by some check). */
export function untouched (check: LimitCheck, e: Evaluation, t: number): void {
  if (check.kind === 'budget') {
    e.remaining = Math.max(0, check.limit - e.current)
    e.resetMs = check.resetAt === undefined ? 0 : Math.max(0, check.resetAt - t)
  } else if (check.kind === 'concurrency') {
    e.remaining = check.limit - e.current
    e.resetMs = e.aux === Infinity ? 0 : e.aux - t
  } else {
    const shape = e.shape as GcraShape
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
  entry.spent = after
  return { key: check.key, limit: check.limit, before, after }
}

function settleRate (c: Counters, check: LimitCheck, actual: number, t: number): void {
  const shape = gcraShape(check.limit, check.windowMs)
  const rate = rateMap(c, check).get(check.key)
  writeRate(c, check, rate, t, gcraSettle(gcraDebt(rate, shape, t), shape, actual - check.cost), shape.tick)
}

/** Stores a key's new debt in its entry (`rate`, undefined: none yet); no debt drops the entry. */
function writeRate (c: Counters, check: LimitCheck, rate: RateEntry | undefined, t: number, debt: number, tick: number): void {
  if (debt <= 0) {
    if (rate !== undefined) rateMap(c, check).delete(check.key)
  } else if (rate === undefined) {
    rateMap(c, check).set(check.key, { at: t, debt, tick })
  } else {
    rate.at = t
    rate.debt = debt
    rate.tick = tick
  }
}

export function settleAll (c: Counters, reservation: Reservation, actual: ReadonlyMap<string, number>, t: number): BudgetMovement[] {
  const movements: BudgetMovement[] = []
  const checks = reservation.checks
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck
    if (check.kind === 'concurrency') {
      const held = c.leases.get(check.key)
      held?.delete(reservation.id)
      if (held?.size === 0) c.leases.delete(check.key)
      continue
    }
    const value = actual.get(check.key)
    if (check.kind === 'budget') {
      const movement = settleBudget(c, check, value ?? check.cost, t)
      if (movement !== null) movements.push(movement)
    } else if (value !== undefined && value !== check.cost) {
      settleRate(c, check, value, t)
    }
  }
  return movements
}

