import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isGatewayError } from '../errors/gateway-error.ts'
import { granted, requests, runCounterStoreContract } from './counter-store-contract.ts'
import { createMemoryCounterStore } from './memory-counter-store.ts'

runCounterStoreContract('memory', async (now) => {
  const store = createMemoryCounterStore({ now })
  return { store, twin: store, dispose: () => store.close() }
})

test('memory is bounded: replenished counters are dropped, and live ones filling maxKeys fail closed with 503', async () => {
  const clock = { t: 1_700_000_000_000 }
  // Each granted request holds its counter and, until settled, its reservation.
  const store = createMemoryCounterStore({ now: () => clock.t, maxKeys: 4 })
  for (const key of ['a', 'b', 'c']) await store.settle(granted(await store.acquire([requests(key, 10)])), new Map())
  await assert.rejects(store.acquire([requests('d', 10)]), (err: unknown) => {
    assert.ok(isGatewayError(err))
    assert.equal(err.code, 'service_unavailable')
    assert.equal(err.status, 503)
    return true
  })
  // 6 s later each counter has fully replenished (1 of 10 per minute) and no longer takes room.
  clock.t += 6_000
  for (const key of ['d', 'e', 'f']) await store.settle(granted(await store.acquire([requests(key, 10)])), new Map())
  await store.close()
})

test('a request refused for lack of room takes nothing from the counters that had room', async () => {
  const clock = { t: 1_700_000_000_000 }
  const store = createMemoryCounterStore({ now: () => clock.t, maxKeys: 2 })
  await store.settle(granted(await store.acquire([requests('a', 10)])), new Map())
  await assert.rejects(store.acquire([requests('a', 10), requests('b', 10)]), { code: 'service_unavailable' })
  const again = await store.acquire([requests('a', 10)])
  assert.equal(again.states[0]?.remaining, 8, 'only the first request was counted against a')
  await store.close()
})
