/**
 * The counters port: rate limits, concurrency and budget reservations, in memory (one instance)
 * or in Redis (a cluster). One `acquire` checks every limit that applies to a request and takes
 * from all of them or from none, atomically — in Redis as one Lua script, one round trip — so
 * concurrent requests can never overshoot by reading before writing. Adapters pass the one
 * contract suite (`counter-store-contract.ts`).
 */

/**
 * - `requests`: GCRA over `windowMs` with burst = `limit` (gcra.ts): in any span of d ms at most
 *   `limit + floor(d / T)` pass, T = windowMs / limit, so a burst at a window edge never doubles
 *   and the sustained rate is exactly `limit` per window; cost 1.
 * - `tokens`: the same GCRA, cost = tokens reserved; settled later to the real count.
 * - `concurrency`: at most `limit` reservations held at once; a held reservation expires after
 *   `windowMs` (a lease, so a crashed instance cannot leak slots forever). Cost must be 1.
 * - `budget`: spent + reserved ≤ `limit` (micro-USD) within the period ending at `resetAt`
 *   (no `resetAt`: a total budget that never resets).
 * See docs/limits.md, "Algorithms".
 */
export type LimitKind = 'requests' | 'tokens' | 'concurrency' | 'budget'

/** One limit that applies to a request. */
export interface LimitCheck {
  /** Counter id, unique per limit and scope, e.g. `rq:key:key_abc:60000`, `bg:tenant:acme:m:2026-11`. */
  readonly key: string
  readonly kind: LimitKind
  /** Requests or tokens per window, concurrent requests, or micro-USD for the period. */
  readonly limit: number
  /** requests/tokens: the window; concurrency: the lease. Budget: ignored (see resetAt). */
  readonly windowMs: number
  /** Budget only: epoch ms when the period ends (UTC calendar); the counter expires then. */
  readonly resetAt?: number
  /**
   * What this request takes: 1 (requests, concurrency), reserved tokens, reserved micro-USD.
   * Limits and costs are non-negative safe integers; `acquire` throws (RangeError/TypeError)
   * before taking anything when a check breaks that, or when one key appears twice.
   */
  readonly cost: number
}

/** The state of one limit after the decision, for `x-ratelimit-*` headers. */
export interface LimitState {
  readonly key: string
  readonly kind: LimitKind
  readonly limit: number
  /**
   * What is left after this request: whole requests/tokens/slots/micro-USD. 0 for a limit that
   * refused; when another limit refused, what is left now (nothing was taken).
   */
  readonly remaining: number
  /**
   * ms until the limit is fully replenished (requests/tokens), until the period ends (budget;
   * 0 for a total budget), or until the oldest held lease lapses (concurrency; 0 when none).
   */
  readonly resetMs: number
}

/** What was taken, to be settled or released exactly once. */
export interface Reservation {
  readonly id: string
  readonly checks: readonly LimitCheck[]
}

export type AcquireResult =
  | { readonly ok: true, readonly reservation: Reservation, readonly states: readonly LimitState[] }
  | {
    readonly ok: false
    /** The first limit that refused (budget before tokens before requests before concurrency). */
    readonly denied: LimitCheck
    /**
     * Honest wait until the same request could pass: the longest among the refusing limits
     * (exact for requests/tokens; until the period ends for a budget; until the oldest lease
     * lapses for concurrency, an upper bound). null when waiting cannot help: a cost above a
     * limit, or a total budget spent.
     */
    readonly retryAfterMs: number | null
    readonly states: readonly LimitState[]
  }

/**
 * A budget's spend before and after a settlement, so crossings of 50/80/100 % can be reported.
 * `before` is the counter without this request's reservation, `after` with its real cost; both
 * include other requests' open reservations.
 */
export interface BudgetMovement {
  readonly key: string
  readonly limit: number
  readonly before: number
  readonly after: number
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis'
  acquire (checks: readonly LimitCheck[]): Promise<AcquireResult>
  /**
   * Replaces each reserved `tokens`/`budget` cost by the actual amount (`actual` by check key;
   * a key not in the map keeps its reservation) and releases `concurrency`. Idempotent per
   * reservation id, on any instance: only the first call moves anything, and a reservation
   * unsettled for 24 h stays charged as reserved. Actual amounts must be non-negative safe
   * integers (RangeError otherwise, before anything moves). Returns one movement per budget
   * settled within its period.
   */
  settle (reservation: Reservation, actual: ReadonlyMap<string, number>): Promise<readonly BudgetMovement[]>
  /**
   * `acquire` and `settle` answered at once, by adapters that need no I/O (memory): the same
   * contract, with errors thrown instead of rejected. The request path uses them when present,
   * so it waits on no promise for in-process counters.
   */
  readonly acquireNow?: (checks: readonly LimitCheck[]) => AcquireResult
  readonly settleNow?: (reservation: Reservation, actual: ReadonlyMap<string, number>) => readonly BudgetMovement[]
  /**
   * Sets a budget counter to `spentMicroUsd` only if it does not exist (this period has no counter
   * yet: a fresh process, or Redis lost it), so spend recorded in the usage store before a restart
   * still counts. Never lowers or overwrites a live counter.
   */
  seedBudget (key: string, spentMicroUsd: number, resetAt: number): Promise<void>
  /** Current spend (micro-USD, reservations included) of budget counters, for the usage API. */
  peekBudgets (keys: readonly string[]): Promise<ReadonlyMap<string, number>>
  /** Resolves when the backing service answers (readiness); rejects otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}
