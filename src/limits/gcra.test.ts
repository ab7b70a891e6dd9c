import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gcraAcquire, gcraDebt, gcraDrainMs, gcraSettle, gcraShape, MAX_TOLERANCE, type GcraShape, type GcraState } from './gcra.ts'

const now = 1_800_000_000_000

/** One decision against a stored state, returning the state to store next. */
function step (state: GcraState | undefined, shape: GcraShape, t: number, cost: number): { ok: boolean, retryAfterMs: number | null, state: GcraState | undefined } {
  const decision = gcraAcquire(gcraDebt(state, shape, t), shape, cost)
  if (!decision.ok) return { ok: false, retryAfterMs: decision.retryAfterMs, state }
  return { ok: true, retryAfterMs: 0, state: { at: t, debt: decision.debt, tick: shape.tick } }
}

test('the shape is exact integers: T and the window in ticks of gcd(limit, window) / limit ms', () => {
  assert.deepEqual(gcraShape(7, 60_000), { tick: 7, interval: 60_000, tolerance: 420_000 })
  assert.deepEqual(gcraShape(1_000, 60_000), { tick: 1, interval: 60, tolerance: 60_000 })
  assert.deepEqual(gcraShape(0, 60_000), { tick: 0, interval: 1, tolerance: 0 })
  // 10^9 tokens a day still fits: gcd(10^9, 86 400 000) = 1 600 000.
  assert.equal(gcraShape(1e9, 86_400_000).tolerance, 54_000_000_000)
  assert.throws(() => gcraShape(2 ** 40 + 1, 2 ** 20 - 1), /too fine/)
  for (const [limit, windowMs] of [[-1, 1000], [-1, -1], [1.5, 1000], [10, 0], [10, 2.5], [Number.NaN, 1000], [Number.NaN, Number.NaN]]) {
    assert.throws(() => gcraShape(limit as number, windowMs as number), RangeError)
  }
  assert.ok(MAX_TOLERANCE < Number.MAX_SAFE_INTEGER / 2)
})

test('remembered shapes are the shapes: asked in turns, more of them than are kept close at hand', () => {
  const asked = Array.from({ length: 20 }, (_, i) => [7 * (i + 1), 60_000 + 1000 * (i % 3)] as const)
  for (let round = 0; round < 3; round++) {
    for (const [limit, windowMs] of asked) {
      const g = gcdOf(limit, windowMs)
      assert.deepEqual(gcraShape(limit, windowMs), { tick: limit / g, interval: windowMs / g, tolerance: limit * windowMs / g })
    }
  }
})

function gcdOf (a: number, b: number): number {
  return b === 0 ? a : gcdOf(b, a % b)
}

test('exactly `limit` pass in a burst, for limits that do not divide the window, and the wait is exact to the ms', () => {
  for (const windowMs of [7, 1_000, 60_000, 86_400_000]) {
    for (const limit of [1, 2, 3, 7, 60, 999, 1_000, 12_345]) {
      const shape = gcraShape(limit, windowMs)
      let state: GcraState | undefined
      for (let i = 0; i < limit; i++) {
        const r = step(state, shape, now, 1)
        assert.ok(r.ok, `${limit}/${windowMs}: request ${i + 1}`)
        state = r.state
      }
      const denied = step(state, shape, now, 1)
      assert.equal(denied.ok, false, `${limit}/${windowMs}: request ${limit + 1}`)
      const wait = denied.retryAfterMs as number
      // The brief's formula in real numbers: max(TAT, now) + T − windowMs − now, rounded up to whole ms.
      assert.equal(wait, Math.ceil(windowMs / limit - 1e-9), `${limit}/${windowMs}`)
      if (wait > 1) assert.equal(step(state, shape, now + wait - 1, 1).ok, false, `${limit}/${windowMs}: 1 ms early`)
      assert.equal(step(state, shape, now + wait, 1).ok, true, `${limit}/${windowMs}: on time`)
    }
  }
})

test('a variable cost waits for exactly its own share; a cost above the limit never passes', () => {
  const shape = gcraShape(1_000, 60_000) // 60 ms per token
  const first = gcraAcquire(0, shape, 700)
  assert.deepEqual(first, { ok: true, debt: 42_000, remaining: 300, resetMs: 42_000, retryAfterMs: 0 })
  const second = gcraAcquire(first.debt, shape, 500)
  assert.deepEqual(second, { ok: false, debt: 42_000, remaining: 0, resetMs: 42_000, retryAfterMs: 12_000 })
  assert.equal(gcraAcquire(0, shape, 1_001).retryAfterMs, null)
  assert.equal(gcraAcquire(0, shape, 1_000).ok, true)
  assert.equal(gcraAcquire(0, gcraShape(0, 1000), 1).retryAfterMs, null)
  assert.equal(gcraAcquire(0, gcraShape(0, 1000), 0).ok, true)
})

test('the debt drains with time, a clock behind adds nothing, and a changed limit never grants credit', () => {
  const shape = gcraShape(10, 60_000) // tick 1: ticks are ms
  const state: GcraState = { at: now, debt: 30_000, tick: 1 }
  assert.equal(gcraDebt(state, shape, now + 10_000), 20_000)
  assert.equal(gcraDebt(state, shape, now + 40_000), 0)
  assert.equal(gcraDebt(state, shape, now - 5_000), 30_000)
  assert.equal(gcraDebt(undefined, shape, now), 0)
  // Written under 7 per minute (tick 7): 300 000 ticks = 42 857.14 ms, read back as 42 858 ms.
  assert.equal(gcraDebt({ at: now, debt: 300_000, tick: 7 }, shape, now), 42_858)
  assert.equal(gcraDrainMs(42_858, shape), 42_858)
  assert.equal(gcraDrainMs(1, gcraShape(7, 60_000)), 1, 'a partial ms rounds up')
})

test('settling refunds down to an empty bucket, never below, and charges an overrun in full', () => {
  const shape = gcraShape(1_000, 60_000)
  assert.equal(gcraSettle(42_000, shape, -600), 6_000)
  assert.equal(gcraSettle(6_000, shape, -600), 0, 'no credit beyond a full bucket')
  assert.equal(gcraSettle(6_000, shape, 2_000), 126_000, 'the overrun makes the key wait 2 minutes')
  assert.equal(gcraSettle(6_000, shape, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER)
})
