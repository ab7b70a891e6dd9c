/**
 * The counters port: rate limits, concurrency and budget reservations, in memory (one instance)
 * or in Redis (a cluster). One `acquire` checks every limit that applies to a request and takes
 * from all of them or from none, atomically — in Redis as one Lua script, one round trip — so
 * concurrent requests can never overshoot by reading before writing. Adapters pass the one
 * contract suite (`counter-store-contract.ts`).
 */

/**
 * - `requests`: GCRA over `windowMs` with burst = `limit` (a smooth sliding window: `limit`
 *   requests per window, never 2× at a window edge); cost 1.
 * - `tokens`: the same GCRA, cost = tokens reserved; settled later to the real count.
 * - `concurrency`: at most `limit` reservations held at once; a held reservation expires after
 *   `windowMs` (a lease, so a crashed instance cannot leak slots forever).
 * - `budget`: spent + reserved ≤ `limit` (micro-USD) within the period ending at `resetAt`.
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
  /** What this request takes: 1 (requests, concurrency), reserved tokens, reserved micro-USD. */
  readonly cost: number
}

/** The state of one limit after the decision, for `x-ratelimit-*` headers. */
export interface LimitState {
  readonly key: string
  readonly kind: LimitKind
  readonly limit: number
  /** What is left after this request (0 when denied by this limit). */
  readonly remaining: number
  /** ms until the limit is fully replenished (requests/tokens), or until the period ends (budget). */
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
    /** Honest wait until the same request could pass; null when waiting cannot help (cost > limit, budget spent until the period ends counts as a wait). */
    readonly retryAfterMs: number | null
    readonly states: readonly LimitState[]
  }

/** A budget's spend before and after a settlement, so crossings of 50/80/100 % can be reported. */
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
   * reservation id.
   */
  settle (reservation: Reservation, actual: ReadonlyMap<string, number>): Promise<readonly BudgetMovement[]>
  /** Current spend (micro-USD, reservations included) of budget counters, for the usage API. */
  peekBudgets (keys: readonly string[]): Promise<ReadonlyMap<string, number>>
  /** Resolves when the backing service answers (readiness); rejects otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}
