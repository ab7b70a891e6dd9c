import { randomBytes } from 'node:crypto'
import type { AcquireResult, LimitCheck, LimitKind, LimitState } from './counter-store.ts'

/**
 * What both counter adapters share around their storage: validating checks, the denial
 * priority and assembling the result, so the memory and Redis adapters cannot drift apart.
 */

/** Which refusal the client hears about first: money before tokens before requests before slots. */
const priority: Readonly<Record<LimitKind, number>> = { budget: 0, tokens: 1, requests: 2, concurrency: 3 }

/**
 * How long a reservation can wait for its settlement. A settle after this is ignored: the
 * reservation stays charged as reserved (never refunded twice) and its concurrency slot lapses
 * with its lease. Longer than any request the gateway lets run.
 */
export const RESERVATION_TTL_MS = 24 * 60 * 60 * 1000

/** One check's verdict and state, as either adapter computed it. */
export interface CheckOutcome {
  readonly pass: boolean
  /** State after the decision: taken when the whole request passed, untouched otherwise. */
  readonly remaining: number
  readonly resetMs: number
  /** When this check refused: its own exact wait, or null when waiting cannot help. */
  readonly retryAfterMs: number | null
}

/**
 * Refuses checks the adapters cannot count exactly. These are programming errors of the
 * caller (the limits stage), not client input: they throw before anything is taken.
 */
export function assertChecks (checks: readonly LimitCheck[]): void {
  // The same counter twice in one request would be evaluated twice against the same state and
  // then charged twice: an overshoot. A request has about a dozen checks: pairs beat a Set there.
  const keys = checks.length > 32 ? new Set<string>() : null
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck
    if (keys !== null ? keys.has(check.key) : seenBefore(checks, i)) {
      throw new TypeError(`limit key ${check.key} appears twice in one acquire`)
    }
    keys?.add(check.key)
    if (!isLimitKind(check.kind)) throw new TypeError(`unknown limit kind ${String(check.kind)}`)
    assertCount('cost', check.cost)
    assertCount('limit', check.limit)
    if (check.kind === 'concurrency' && check.cost !== 1) throw new RangeError('a concurrency check costs 1')
    if (check.kind === 'budget') {
      if (check.resetAt !== undefined && !Number.isSafeInteger(check.resetAt)) throw new RangeError('budget resetAt must be epoch ms')
    } else if (check.kind === 'concurrency') {
      if (!Number.isSafeInteger(check.windowMs) || check.windowMs <= 0) throw new RangeError('concurrency lease must be a positive integer of ms')
    }
    // requests/tokens: each adapter asks gcraShape for the shape before taking anything, and it
    // throws (RangeError) for a window or limit it cannot count exactly.
  }
}

// A switch on constants, not `kind in priority`: that is a megamorphic lookup on every check.
function isLimitKind (kind: unknown): kind is LimitKind {
  return kind === 'requests' || kind === 'tokens' || kind === 'concurrency' || kind === 'budget'
}

function seenBefore (checks: readonly LimitCheck[], i: number): boolean {
  const key = (checks[i] as LimitCheck).key
  for (let j = 0; j < i; j++) if ((checks[j] as LimitCheck).key === key) return true
  return false
}

/** Amounts (tokens, micro-USD, requests) are integers, never negative, never beyond 2^53. */
export function assertCount (name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`)
}

/** The settled amounts, checked before anything moves. */
export function assertActuals (actual: ReadonlyMap<string, number>): void {
  for (const [key, value] of actual) assertCount(`actual for ${key}`, value)
}

// Reservation ids for counters shared by instances (Redis): 96 random bits per process + a
// counter, unique across instances and restarts without asking the CSPRNG on every request (a
// measurable share of the request path). Settlement ids are never taken from callers, so they
// need to be unique, not secret.
const processTag = randomBytes(12).toString('base64url')
let reservationCounter = 0

export function newReservationId (): string {
  reservationCounter = (reservationCounter + 1) % Number.MAX_SAFE_INTEGER
  return `${processTag}.${reservationCounter.toString(36)}`
}

/**
 * Builds the port's result. The refusal reported is the first by priority; the wait is the
 * longest among all refusing checks (the same request needs every one of them), or null as soon
 * as one of them can never pass.
 */
export function acquireResult (checks: readonly LimitCheck[], outcomes: readonly CheckOutcome[], id: string): AcquireResult {
  const states: LimitState[] = new Array(checks.length)
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck
    const outcome = outcomes[i] as CheckOutcome
    states[i] = { key: check.key, kind: check.kind, limit: check.limit, remaining: outcome.pass ? outcome.remaining : 0, resetMs: outcome.resetMs }
  }
  let denied: LimitCheck | null = null
  let retryAfterMs: number | null = 0
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck
    const outcome = outcomes[i] as CheckOutcome
    if (outcome.pass) continue
    if (denied === null || priority[check.kind] < priority[denied.kind]) denied = check
    if (retryAfterMs !== null) retryAfterMs = outcome.retryAfterMs === null ? null : Math.max(retryAfterMs, outcome.retryAfterMs)
  }
  if (denied === null) return { ok: true, reservation: { id, checks }, states }
  return { ok: false, denied, retryAfterMs, states }
}
