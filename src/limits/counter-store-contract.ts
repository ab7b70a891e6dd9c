import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { AcquireResult, CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import { budgetAndSettleTests } from './counter-store-contract-budget.ts'

/** One adapter under test, on a clock the suite steps by hand. */
export interface CounterStoreFixture {
  readonly store: CounterStore
  /** A second instance over the same counters (Redis: another connection); memory: the same store. */
  readonly twin: CounterStore
  /** Removes what the test left behind; close is tested separately. */
  dispose (): Promise<void>
}

export type MakeCounterStore = (now: () => number) => Promise<CounterStoreFixture>

/** The suite's clock: starts at the real time so server-side TTLs stay meaningful. */
export interface Clock { t: number }

export type WithCounters = (fn: (f: CounterStoreFixture, clock: Clock) => Promise<void>) => () => Promise<void>

export const requests = (key: string, limit: number, windowMs = 60_000): LimitCheck => ({ key, kind: 'requests', limit, windowMs, cost: 1 })
export const tokens = (key: string, limit: number, cost: number, windowMs = 60_000): LimitCheck => ({ key, kind: 'tokens', limit, windowMs, cost })
export const slots = (key: string, limit: number, leaseMs = 30_000): LimitCheck => ({ key, kind: 'concurrency', limit, windowMs: leaseMs, cost: 1 })
export const budget = (key: string, limit: number, cost: number, resetAt?: number): LimitCheck =>
  resetAt === undefined ? { key, kind: 'budget', limit, windowMs: 0, cost } : { key, kind: 'budget', limit, windowMs: 0, cost, resetAt }

export function granted (result: AcquireResult): Reservation {
  assert.ok(result.ok, `expected a grant, got a refusal by ${result.ok ? '' : result.denied.key}`)
  return result.reservation
}

export function refused (result: AcquireResult): Extract<AcquireResult, { ok: false }> {
  assert.equal(result.ok, false, 'expected a refusal')
  return result as Extract<AcquireResult, { ok: false }>
}

/** The one contract every CounterStore adapter must pass. */
export function runCounterStoreContract (name: string, make: MakeCounterStore): void {
  const withCounters: WithCounters = (fn) => async () => {
    const clock: Clock = { t: Date.now() }
    const fixture = await make(() => clock.t)
    try {
      await fn(fixture, clock)
    } finally {
      await fixture.dispose()
    }
  }

  describe(`counter store contract: ${name}`, () => {
    test('ping resolves while open; close is idempotent and every call then rejects', async () => {
      const fixture = await make(Date.now)
      try {
        await fixture.store.ping()
        await fixture.store.close()
        await fixture.store.close()
        await assert.rejects(fixture.store.ping())
        await assert.rejects(fixture.store.acquire([requests('a', 1)]))
      } finally {
        await fixture.dispose()
      }
    })
    rateTests(withCounters)
    concurrencyTests(withCounters)
    budgetAndSettleTests(withCounters)
  })
}

function rateTests (withCounters: WithCounters): void {
  test('exactly `limit` pass in a burst; the refusal names the wait, and the next passes exactly then, not 1 ms before', withCounters(async ({ store }, clock) => {
    // 7 per minute: T = 8571.43 ms, where float TATs would drift.
    for (let i = 6; i >= 0; i--) {
      const result = await store.acquire([requests('rq', 7)])
      granted(result)
      assert.equal(result.states[0]?.remaining, i)
    }
    const denied = refused(await store.acquire([requests('rq', 7)]))
    assert.equal(denied.denied.key, 'rq')
    assert.equal(denied.retryAfterMs, 8572)
    assert.deepEqual(denied.states, [{ key: 'rq', kind: 'requests', limit: 7, remaining: 0, resetMs: 60_000 }])
    clock.t += 8571
    assert.equal(refused(await store.acquire([requests('rq', 7)])).retryAfterMs, 1)
    clock.t += 1
    granted(await store.acquire([requests('rq', 7)]))
    assert.equal(refused(await store.acquire([requests('rq', 7)])).retryAfterMs, 8571)
  }))

  test('states carry what a client needs for x-ratelimit-* headers', withCounters(async ({ store }) => {
    await store.acquire([requests('rq', 5), tokens('tk', 1000, 100)])
    const result = await store.acquire([requests('rq', 5), tokens('tk', 1000, 150)])
    granted(result)
    // T = 12 s per request, 60 ms per token: 2 requests and 250 tokens take 24 s and 15 s to replenish.
    assert.deepEqual(result.states, [
      { key: 'rq', kind: 'requests', limit: 5, remaining: 3, resetMs: 24_000 },
      { key: 'tk', kind: 'tokens', limit: 1000, remaining: 750, resetMs: 15_000 }
    ])
  }))

  test('no doubling at window edges: in any span d, at most limit + d/T pass', withCounters(async ({ store, twin }, clock) => {
    const limit = 10
    const T = 1000 // 10 per 10 s
    const passed: number[] = []
    // A burst at the very end of one window, then at the start of the next: the second gets
    // only what replenished in between (nothing in 2 ms), not a fresh `limit`.
    clock.t += 9_999
    for (let i = 0; i < 20; i++) if ((await store.acquire([requests('rq', limit, 10_000)])).ok) passed.push(clock.t)
    assert.equal(passed.length, 10)
    clock.t += 2
    for (let i = 0; i < 20; i++) if ((await twin.acquire([requests('rq', limit, 10_000)])).ok) passed.push(clock.t)
    assert.equal(passed.length, 10)
    // Then a steady overload for three windows from both instances.
    for (let step = 0; step < 120; step++) {
      clock.t += 250
      for (let i = 0; i < 3; i++) if ((await (i % 2 === 0 ? store : twin).acquire([requests('rq', limit, 10_000)])).ok) passed.push(clock.t)
    }
    for (let i = 0; i < passed.length; i++) {
      for (let j = i; j < passed.length; j++) {
        const span = (passed[j] as number) - (passed[i] as number)
        assert.ok(j - i + 1 <= limit + Math.floor(span / T), `${j - i + 1} passed within ${span} ms`)
      }
    }
    assert.equal(passed.length, 10 + 30, 'the sustained rate is exactly limit per window')
  }))

  test('tokens: a reservation settled down refunds, settled up charges the overrun', withCounters(async ({ store }, clock) => {
    // 1000 tokens per minute: T = 60 ms per token.
    const first = granted(await store.acquire([tokens('tk', 1000, 600)]))
    await store.settle(first, new Map([['tk', 100]]))
    granted(await store.acquire([tokens('tk', 1000, 900)]))
    assert.equal(refused(await store.acquire([tokens('tk', 1000, 1)])).retryAfterMs, 60)

    clock.t += 60_000
    const second = granted(await store.acquire([tokens('tk', 1000, 100)]))
    await store.settle(second, new Map([['tk', 700]]))
    const over = refused(await store.acquire([tokens('tk', 1000, 400)]))
    assert.equal(over.retryAfterMs, 6_000, '700 used + 400 wanted is 100 over: 6 s')
    assert.equal(over.states[0]?.resetMs, 42_000)
    granted(await store.acquire([tokens('tk', 1000, 300)]))
  }))

  test('a refund after the bucket refilled cannot overfill it', withCounters(async ({ store }, clock) => {
    const held = granted(await store.acquire([tokens('tk', 1000, 500)]))
    clock.t += 60_000
    await store.settle(held, new Map([['tk', 0]]))
    granted(await store.acquire([tokens('tk', 1000, 1000)]))
    refused(await store.acquire([tokens('tk', 1000, 1)]))
  }))

  test('a cost above the limit is refused with no retry-after: waiting cannot help', withCounters(async ({ store }) => {
    const tooBig = refused(await store.acquire([tokens('tk', 1000, 1001)]))
    assert.equal(tooBig.retryAfterMs, null)
    assert.equal(refused(await store.acquire([requests('rq', 0)])).retryAfterMs, null)
    assert.equal(refused(await store.acquire([budget('bg', 100, 101, Date.now() + 60_000)])).retryAfterMs, null)
    assert.equal(refused(await store.acquire([slots('cc', 0)])).retryAfterMs, null)
    granted(await store.acquire([tokens('tk', 1000, 1000)]))
  }))

  test('a limit changed between requests keeps the time already owed', withCounters(async ({ store }) => {
    for (let i = 0; i < 5; i++) granted(await store.acquire([requests('rq', 7)]))
    // 5 of 7 per minute owe 42 858 ms (rounded up); under 10 per minute that leaves room for 2.
    const result = await store.acquire([requests('rq', 10)])
    granted(result)
    assert.deepEqual(result.states[0], { key: 'rq', kind: 'requests', limit: 10, remaining: 1, resetMs: 48_858 })
  }))

  test('checks the adapters cannot count exactly are refused before anything is taken', withCounters(async ({ store }) => {
    await assert.rejects(store.acquire([requests('rq', 5), tokens('rq', 10, 1)]), /twice/)
    await assert.rejects(store.acquire([tokens('tk', 10, -1)]), RangeError)
    await assert.rejects(store.acquire([tokens('tk', 10, 1.5)]), RangeError)
    await assert.rejects(store.acquire([requests('rq', 5, 0)]), RangeError)
    await assert.rejects(store.acquire([{ ...slots('cc', 2), cost: 2 }]), RangeError)
    assert.equal((await store.acquire([requests('rq', 5)])).states[0]?.remaining, 4)
  }))
}

function concurrencyTests (withCounters: WithCounters): void {
  test('concurrency: slots are held until settled, and a lease lapses on its own', withCounters(async ({ store, twin }, clock) => {
    const a = granted(await store.acquire([slots('cc', 2)]))
    clock.t += 1_000
    const b = await twin.acquire([slots('cc', 2)])
    granted(b)
    assert.deepEqual(b.states[0], { key: 'cc', kind: 'concurrency', limit: 2, remaining: 0, resetMs: 29_000 })
    const full = refused(await store.acquire([slots('cc', 2)]))
    assert.equal(full.retryAfterMs, 29_000, 'the oldest lease bounds the wait')
    await twin.settle(a, new Map())
    const c = granted(await store.acquire([slots('cc', 2)]))
    refused(await store.acquire([slots('cc', 2)]))
    // Nobody settles: both leases lapse 30 s after they were taken.
    clock.t += 30_000
    granted(await store.acquire([slots('cc', 2)]))
    granted(await store.acquire([slots('cc', 2)]))
    refused(await store.acquire([slots('cc', 2)]))
    // Late settlements of lapsed leases free nobody else's slot.
    await store.settle(c, new Map())
    refused(await store.acquire([slots('cc', 2)]))
  }))
}
