/**
 * GCRA — the generic cell rate algorithm (ITU-T I.371 §4.4.2, virtual scheduling form) with a
 * variable cost per request, as pure functions shared by the memory adapter and mirrored line by
 * line in the Redis Lua script (`redis-counter-scripts.ts`); the contract suite holds them equal.
 *
 * The textbook form keeps a theoretical arrival time TAT per key, the emission interval is
 * T = windowMs / limit and the burst tolerance is windowMs (burst = limit): a request of cost c at
 * `now` passes iff max(TAT, now) + c·T − now ≤ windowMs, and then TAT' = max(TAT, now) + c·T.
 *
 * T is rarely a whole number of ms (60 000 ms / 7 = 8 571.43 ms), and float TATs near 1.8e12 ms
 * make "exactly `limit` in a burst" depend on rounding (3 × 333.33… may exceed 1000). So time is
 * counted in ticks of g / limit ms, with g = gcd(limit, windowMs): T is then `interval` =
 * windowMs / g ticks and the window `tolerance` = limit · windowMs / g ticks, both integers. And
 * instead of the absolute TAT (which would overflow 2^53 in ticks) the state holds the debt
 * TAT − at in ticks, as of the integer ms `at`; debt drains by `tick` = limit / g per ms. Every
 * quantity is then an integer below 2^53 and every decision is exact. TAT = at + debt / tick ms.
 */

/** The integer shape of one limit. */
export interface GcraShape {
  /** Ticks per ms (limit / g): how fast the debt drains. 0 when the limit is 0. */
  readonly tick: number
  /** The emission interval T in ticks (windowMs / g): what a cost of 1 adds. */
  readonly interval: number
  /** The burst tolerance, windowMs in ticks (limit · windowMs / g): the most debt allowed. */
  readonly tolerance: number
}

/** What is stored per key. debt 0 = fully replenished: the entry can be dropped. */
export interface GcraState {
  /** Epoch ms of the last update. */
  readonly at: number
  /** TAT − at, in ticks of the shape the state was written with. */
  readonly debt: number
  /** The shape's `tick` when written, so a changed limit reinterprets the debt in ms. */
  readonly tick: number
}

export interface GcraDecision {
  readonly ok: boolean
  /** The debt after the decision (unchanged when refused). */
  readonly debt: number
  /** Whole costs of 1 that still fit after the decision: floor((tolerance − debt) / interval). */
  readonly remaining: number
  /** ms until the debt is 0 (fully replenished) after the decision. */
  readonly resetMs: number
  /** Refused: the exact wait until the same cost passes; null when cost > limit. 0 when passed. */
  readonly retryAfterMs: number | null
}

/** Above this the sums in a decision could leave the exact integer range of a double. */
export const MAX_TOLERANCE = 2 ** 51

function gcd (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

// Shapes are asked for on every check of every request, for the same few limits: remember them.
const shapes = new Map<number, Map<number, GcraShape>>()
let remembered = 0
// The last few asked for, searched first: a request has a handful of rate limits, and comparing
// numbers costs less than two Map lookups per check.
const recentSize = 8
const recentLimits: number[] = new Array<number>(recentSize).fill(Number.NaN)
const recentWindows: number[] = new Array<number>(recentSize).fill(Number.NaN)
const recentShapes: Array<GcraShape | null> = new Array<GcraShape | null>(recentSize).fill(null)
let recentNext = 0

/** The integer shape of `limit` per `windowMs`; throws when it cannot be counted exactly. */
export function gcraShape (limit: number, windowMs: number): GcraShape {
  for (let i = 0; i < recentSize; i++) {
    if (recentLimits[i] === limit && recentWindows[i] === windowMs) return recentShapes[i] as GcraShape
  }
  const shape = rememberedShape(limit, windowMs)
  recentLimits[recentNext] = limit
  recentWindows[recentNext] = windowMs
  recentShapes[recentNext] = shape
  recentNext = (recentNext + 1) % recentSize
  return shape
}

function rememberedShape (limit: number, windowMs: number): GcraShape {
  const known = shapes.get(limit)?.get(windowMs)
  if (known !== undefined) return known
  const shape = computeShape(limit, windowMs)
  if (++remembered > 4096) { shapes.clear(); remembered = 1 }
  let byWindow = shapes.get(limit)
  if (byWindow === undefined) shapes.set(limit, byWindow = new Map())
  byWindow.set(windowMs, shape)
  return shape
}

function computeShape (limit: number, windowMs: number): GcraShape {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`GCRA limit must be a non-negative integer, got ${limit}`)
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new RangeError(`GCRA window must be a positive integer of ms, got ${windowMs}`)
  // A zero limit refuses every positive cost; only a cost of 0 fits in a zero tolerance.
  if (limit === 0) return Object.freeze({ tick: 0, interval: 1, tolerance: 0 })
  const g = gcd(limit, windowMs)
  const tolerance = (limit / g) * windowMs
  if (tolerance > MAX_TOLERANCE) throw new RangeError(`GCRA limit ${limit} per ${windowMs} ms is too fine to count exactly`)
  return Object.freeze({ tick: limit / g, interval: windowMs / g, tolerance })
}

/**
 * The debt at `now`. A state written under another limit keeps its TAT in ms, rounded up to the
 * new ticks (a policy change never grants credit); that one conversion is a float operation.
 * A clock behind `at` (another instance, caller time) drains nothing rather than adding debt.
 */
export function gcraDebt (state: GcraState | undefined, shape: GcraShape, now: number): number {
  if (state === undefined || state.debt <= 0 || shape.tick === 0) return 0
  let debt = state.debt
  if (state.tick !== shape.tick) debt = state.tick === 0 ? 0 : Math.ceil(debt * shape.tick / state.tick)
  const elapsed = now - state.at
  if (elapsed > 0) debt -= elapsed * shape.tick
  return debt > 0 ? debt : 0
}

/** ms until `debt` drains to 0, rounded up: the key is then fully replenished. */
export function gcraDrainMs (debt: number, shape: GcraShape): number {
  return debt <= 0 || shape.tick === 0 ? 0 : Math.ceil(debt / shape.tick)
}

/** Whole costs of 1 that fit on top of `debt`. */
export function gcraRemaining (debt: number, shape: GcraShape): number {
  return Math.max(0, Math.floor((shape.tolerance - debt) / shape.interval))
}

/** Decides a request of `cost` against the debt at now (from `gcraDebt`). */
export function gcraAcquire (debt: number, shape: GcraShape, cost: number): GcraDecision {
  const needed = debt + cost * shape.interval
  if (needed <= shape.tolerance) {
    return { ok: true, debt: needed, remaining: gcraRemaining(needed, shape), resetMs: gcraDrainMs(needed, shape), retryAfterMs: 0 }
  }
  // cost · interval > tolerance ⟺ cost > limit: no wait ever lets it through.
  const retryAfterMs = cost * shape.interval > shape.tolerance ? null : Math.ceil((needed - shape.tolerance) / shape.tick)
  return { ok: false, debt, remaining: 0, resetMs: gcraDrainMs(debt, shape), retryAfterMs }
}

/**
 * Settles a reservation: the debt moves by (actual − reserved) · T. A refund never takes the
 * debt below 0, i.e. TAT never below now: unused tokens return to the bucket but cannot
 * overfill it, so a refund can never let more than `limit` through in a burst. An overrun is
 * charged in full (the key waits longer); the debt is capped at 2^53 − 1 to stay an integer.
 */
export function gcraSettle (debt: number, shape: GcraShape, delta: number): number {
  const next = debt + delta * shape.interval
  if (next <= 0) return 0
  return Math.min(next, Number.MAX_SAFE_INTEGER)
}
