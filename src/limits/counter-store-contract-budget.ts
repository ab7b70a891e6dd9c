import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Reservation } from './counter-store.ts'
import { budget, granted, refused, requests, slots, tokens, type WithCounters } from './counter-store-contract.ts'

const hour = 3_600_000

/** Budgets, all-or-nothing, denial priority, settlement and exactness under concurrency. */
export function budgetAndSettleTests (withCounters: WithCounters): void {
  test('budget: reserve, settle to the real cost, movements before/after, honest wait until the period ends', withCounters(async ({ store }, clock) => {
    const resetAt = clock.t + hour
    const first = await store.acquire([budget('bg', 10_000, 4_000, resetAt)])
    assert.deepEqual(first.states, [{ key: 'bg', kind: 'budget', limit: 10_000, remaining: 6_000, resetMs: hour }])
    assert.deepEqual(await store.peekBudgets(['bg', 'other']), new Map([['bg', 4_000], ['other', 0]]))
    assert.deepEqual(await store.settle(granted(first), new Map([['bg', 1_500]])), [{ key: 'bg', limit: 10_000, before: 0, after: 1_500 }])
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 1_500)
    const second = granted(await store.acquire([budget('bg', 10_000, 3_000, resetAt)]))
    // No actual for the key: the reservation stands as the cost.
    assert.deepEqual(await store.settle(second, new Map()), [{ key: 'bg', limit: 10_000, before: 1_500, after: 4_500 }])
    clock.t += 1_000
    const denied = refused(await store.acquire([budget('bg', 10_000, 6_000, resetAt)]))
    assert.equal(denied.retryAfterMs, hour - 1_000)
    assert.deepEqual(denied.states, [{ key: 'bg', kind: 'budget', limit: 10_000, remaining: 0, resetMs: hour - 1_000 }])
    assert.equal(granted(await store.acquire([budget('bg', 10_000, 5_500, resetAt)])).checks.length, 1)
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 10_000)
  }))

  test('budget: a seed sets an absent counter (spend recorded before a restart) and never overwrites a live one', withCounters(async ({ store }, clock) => {
    const resetAt = clock.t + hour
    await store.seedBudget('seeded', 7_000, resetAt)
    assert.equal((await store.peekBudgets(['seeded'])).get('seeded'), 7_000)
    // Only 3,000 left of 10,000: a 4,000 reservation is refused, a 3,000 one passes.
    refused(await store.acquire([budget('seeded', 10_000, 4_000, resetAt)]))
    granted(await store.acquire([budget('seeded', 10_000, 3_000, resetAt)]))
    await store.seedBudget('seeded', 0, resetAt)
    assert.equal((await store.peekBudgets(['seeded'])).get('seeded'), 10_000, 'a live counter is not lowered')
  }))

  test('budget: the counter ends with its period; a late settlement does not touch the next one', withCounters(async ({ store }, clock) => {
    const resetAt = clock.t + hour
    const old = granted(await store.acquire([budget('bg', 1_000, 800, resetAt)]))
    clock.t = resetAt
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 0)
    granted(await store.acquire([budget('bg', 1_000, 900, resetAt + 24 * hour)]))
    assert.deepEqual(await store.settle(old, new Map([['bg', 100]])), [])
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 900)
    // A budget without a period (total) never comes back by waiting.
    granted(await store.acquire([budget('total', 100, 60)]))
    assert.equal(refused(await store.acquire([budget('total', 100, 60)])).retryAfterMs, null)
  }))

  test('all or nothing: a request refused by one limit takes nothing from the others', withCounters(async ({ store }, clock) => {
    const resetAt = clock.t + hour
    granted(await store.acquire([tokens('tk', 100, 90)]))
    const denied = refused(await store.acquire([requests('rq', 10), tokens('tk', 100, 20), slots('cc', 1), budget('bg', 1_000, 300, resetAt)]))
    assert.equal(denied.denied.key, 'tk')
    assert.equal(denied.retryAfterMs, 6_000, '10 tokens over at 600 ms per token')
    assert.deepEqual(denied.states.map((s) => [s.key, s.remaining, s.resetMs]), [['rq', 10, 0], ['tk', 0, 54_000], ['cc', 1, 0], ['bg', 1_000, hour]])
    const after = await store.acquire([requests('rq', 10), slots('cc', 1), budget('bg', 1_000, 300, resetAt)])
    granted(after)
    assert.deepEqual(after.states.map((s) => s.remaining), [9, 0, 700])
  }))

  test('the refusal reported is budget, then tokens, then requests, then concurrency; the wait is the longest', withCounters(async ({ store }, clock) => {
    const resetAt = clock.t + hour
    const all = [slots('cc', 1), requests('rq', 1), tokens('tk', 10, 10), budget('bg', 10, 10, resetAt)]
    granted(await store.acquire(all))
    const byBudget = refused(await store.acquire(all))
    assert.equal(byBudget.denied.kind, 'budget')
    assert.equal(byBudget.retryAfterMs, hour)
    assert.equal(refused(await store.acquire(all.slice(0, 3))).denied.kind, 'tokens')
    const byRequests = refused(await store.acquire(all.slice(0, 2)))
    assert.equal(byRequests.denied.kind, 'requests')
    assert.equal(byRequests.retryAfterMs, 60_000)
    assert.equal(refused(await store.acquire(all.slice(0, 1))).denied.kind, 'concurrency')
    assert.equal(refused(await store.acquire([...all, budget('total', 5, 6)])).retryAfterMs, null)
  }))

  test('settle is idempotent: once per reservation, on any instance; a forged one moves nothing', withCounters(async ({ store, twin }, clock) => {
    const resetAt = clock.t + hour
    granted(await store.acquire([slots('cc', 2), budget('bg', 10_000, 400, resetAt)]))
    const held = granted(await store.acquire([tokens('tk', 1_000, 500), slots('cc', 2), budget('bg', 10_000, 500, resetAt)]))
    const actual = new Map([['tk', 100], ['bg', 100]])
    await assert.rejects(store.settle(held, new Map([['tk', -5]])), RangeError)
    assert.deepEqual(await store.settle(held, actual), [{ key: 'bg', limit: 10_000, before: 400, after: 500 }])
    assert.deepEqual(await store.settle(held, actual), [])
    assert.deepEqual(await twin.settle(held, actual), [])
    const forged: Reservation = { id: 'forged', checks: [tokens('tk', 1_000, 900), budget('bg', 10_000, 500, resetAt)] }
    assert.deepEqual(await store.settle(forged, new Map([['tk', 0], ['bg', 0]])), [])
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 500)
    // 100 tokens used: 900 fit, 901 do not (a second refund would have let them).
    refused(await store.acquire([tokens('tk', 1_000, 901)]))
    granted(await store.acquire([tokens('tk', 1_000, 900)]))
    granted(await store.acquire([slots('cc', 2)]))
    refused(await store.acquire([slots('cc', 2)]))
  }))

  test('exact under concurrency: 200 simultaneous requests against a limit of 50, split over two instances → exactly 50', withCounters(async ({ store, twin }) => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? store : twin).acquire([requests('rq', 50, hour)])))
    assert.equal(results.filter((r) => r.ok).length, 50)
    for (const r of results) if (!r.ok) assert.equal(r.denied.key, 'rq')
  }))

  test('exact under concurrency: 20 simultaneous reservations against a budget for 5, and 100 against 10 slots', withCounters(async ({ store, twin }, clock) => {
    const resetAt = clock.t + hour
    const spend = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : twin).acquire([tokens('tk', 1_000_000, 1_000), budget('bg', 5_000, 1_000, resetAt)])))
    assert.equal(spend.filter((r) => r.ok).length, 5)
    assert.equal((await store.peekBudgets(['bg'])).get('bg'), 5_000)
    const held = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? store : twin).acquire([slots('cc', 10)])))
    assert.equal(held.filter((r) => r.ok).length, 10)
  }))
}
