import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { PolicyRecord, PriceRecord, Store, UsageDelta, UsageQuery } from './store.ts'
import { withStoreFrom, type MakeStore, type WithStore } from './store-contract.ts'

let counter = 0

/** A complete key policy with a unique id; override any field. */
export function samplePolicy (overrides: Partial<PolicyRecord> = {}): PolicyRecord {
  counter++
  return {
    id: 'pol_' + randomBytes(8).toString('hex'),
    targetKind: 'key',
    targetId: 'key_' + randomBytes(8).toString('hex'),
    tenant: null,
    requestsPerMinute: 60,
    tokensPerMinute: null,
    concurrentRequests: null,
    budgetMicroUsd: null,
    budgetPeriod: null,
    maxTokens: null,
    createdAt: 1_700_000_000_000 + counter,
    createdBy: null,
    updatedAt: 1_700_000_000_000 + counter,
    ...overrides
  }
}

const hour = 3_600_000
const h0 = 1_700_000_000_000 - (1_700_000_000_000 % hour)

function delta (overrides: Partial<UsageDelta> = {}): UsageDelta {
  return { hour: h0, keyId: 'key_a', clientId: null, tenant: 'acme', model: 'gpt-4o', requests: 1, inputTokens: 10, outputTokens: 20, costMicroUsd: 300, ...overrides }
}

function everything (overrides: Partial<UsageQuery> = {}): UsageQuery {
  return { from: 0, to: 4_000_000_000_000, groupBy: ['hour', 'key', 'client', 'tenant', 'model'], limit: 1000, ...overrides }
}

/** Policies, prices and usage: the part of the store contract the limits stage relies on. */
export function runLimitsStoreContract (name: string, makeStore: MakeStore): void {
  const withStore = withStoreFrom(makeStore)
  describe(`store contract (limits): ${name}`, () => {
    policyTests(withStore)
    priceTests(withStore)
    usageAddTests(withStore)
    usageQueryTests(withStore)
  })
}

function policyTests (withStore: WithStore): void {
  test('policies: put then get returns every field; a global policy has no target id; unknown is null', withStore(async (store) => {
    const full = samplePolicy({
      targetKind: 'client', targetId: 'cli_0123456789abcdef', tenant: 'acme', requestsPerMinute: 600, tokensPerMinute: 90_000,
      concurrentRequests: 4, budgetMicroUsd: 25_000_000_000_000, budgetPeriod: 'monthly', maxTokens: 8_192, createdBy: 'key_admin'
    })
    const global = samplePolicy({ targetKind: 'global', targetId: null, requestsPerMinute: null, concurrentRequests: 100 })
    await store.policies.put(full)
    await store.policies.put(global)
    assert.deepEqual(await store.policies.get(full.id), full)
    assert.deepEqual(await store.policies.get(global.id), global)
    assert.equal(await store.policies.get('pol_unknown'), null)
  }))

  test('policies: put with an existing id replaces the policy; listAll is oldest first; delete removes once', withStore(async (store) => {
    const a = samplePolicy({ createdAt: 2_000 })
    const b = samplePolicy({ targetKind: 'model', targetId: 'qwen2.5-*', createdAt: 1_000 })
    const c = samplePolicy({ targetKind: 'tenant', targetId: 'acme', tenant: 'acme', createdAt: 3_000 })
    for (const p of [a, b, c]) await store.policies.put(p)
    const replaced = { ...a, requestsPerMinute: null, budgetMicroUsd: 5_000_000, budgetPeriod: 'daily' as const, updatedAt: 9_000 }
    await store.policies.put(replaced)
    assert.deepEqual(await store.policies.get(a.id), replaced)
    assert.deepEqual(await store.policies.listAll(), [b, replaced, c])
    assert.equal(await store.policies.delete(a.id), true)
    assert.equal(await store.policies.delete(a.id), false)
    assert.deepEqual((await store.policies.listAll()).map((p) => p.id), [b.id, c.id])
  }))
}

function priceTests (withStore: WithStore): void {
  test('prices: put, replace, listAll by model, delete', withStore(async (store) => {
    const mini: PriceRecord = { model: 'gpt-4o-mini', inputMicroUsdPerMillion: 150_000, outputMicroUsdPerMillion: 600_000, updatedAt: 1, updatedBy: 'key_x' }
    const qwen: PriceRecord = { model: 'qwen2.5-*', inputMicroUsdPerMillion: 0, outputMicroUsdPerMillion: 0, updatedAt: 2, updatedBy: null }
    const slash: PriceRecord = { model: 'meta-llama/Llama-3.1-8B:free', inputMicroUsdPerMillion: 10, outputMicroUsdPerMillion: 20, updatedAt: 3, updatedBy: null }
    for (const p of [qwen, mini, slash]) await store.prices.put(p)
    assert.deepEqual(await store.prices.listAll(), [mini, slash, qwen])
    const dearer = { ...mini, inputMicroUsdPerMillion: 10_000_000_000, updatedAt: 5 }
    await store.prices.put(dearer)
    assert.deepEqual(await store.prices.listAll(), [dearer, slash, qwen])
    assert.equal(await store.prices.delete('qwen2.5-*'), true)
    assert.equal(await store.prices.delete('qwen2.5-*'), false)
    assert.deepEqual(await store.prices.listAll(), [dearer, slash])
  }))
}

function usageAddTests (withStore: WithStore): void {
  test('usage: deltas of one cell in a batch and across batches are summed; hours are floored', withStore(async (store) => {
    await store.usage.add([])
    await store.usage.add([delta(), delta({ hour: h0 + 59 * 60_000 }), delta({ requests: 2, costMicroUsd: 5_000_000_000_000 })])
    await store.usage.add([delta()])
    assert.deepEqual(await store.usage.query(everything()), [
      { hour: h0, keyId: 'key_a', clientId: null, tenant: 'acme', model: 'gpt-4o', requests: 5, inputTokens: 40, outputTokens: 80, costMicroUsd: 5_000_000_000_900 }
    ])
  }))

  test('usage: absent dimensions read back as null, and an empty string is the same absent value', withStore(async (store) => {
    await store.usage.add([
      delta({ keyId: null, clientId: 'cli_a', tenant: null }),
      delta({ keyId: '', clientId: 'cli_a', tenant: '' }),
      delta({ keyId: null, clientId: null, tenant: null, model: 'mock-echo' })
    ])
    const rows = await store.usage.query(everything())
    assert.deepEqual(rows, [
      { hour: h0, keyId: null, clientId: 'cli_a', tenant: null, model: 'gpt-4o', requests: 2, inputTokens: 20, outputTokens: 40, costMicroUsd: 600 },
      { hour: h0, keyId: null, clientId: null, tenant: null, model: 'mock-echo', requests: 1, inputTokens: 10, outputTokens: 20, costMicroUsd: 300 }
    ])
  }))

  test('usage: concurrent adds to the same cell lose no increment, and overlapping batches do not deadlock', withStore(async (store) => {
    // Half the batches name the shared cells in the opposite order: without a common lock order
    // PostgreSQL detects a deadlock between two of them.
    const shared = ['a', 'b', 'c', 'd', 'e', 'f'].map((model) => delta({ model }))
    const runs = 40
    await Promise.all(Array.from({ length: runs }, (_, i) =>
      store.usage.add(i % 2 === 0 ? [...shared, delta({ model: 'fresh' })] : [...shared].reverse())))
    const rows = await store.usage.query(everything({ groupBy: ['model'] }))
    const byModel = Object.fromEntries(rows.map((r) => [r.model, r.requests]))
    assert.deepEqual(byModel, { a: runs, b: runs, c: runs, d: runs, e: runs, f: runs, fresh: runs / 2 })
  }))
}

function usageQueryTests (withStore: WithStore): void {
  const seed = async (store: Store): Promise<void> => {
    await store.usage.add([
      delta({ hour: h0, keyId: 'key_a', model: 'gpt-4o', costMicroUsd: 100 }),
      delta({ hour: h0, keyId: 'key_b', model: 'gpt-4o-mini', costMicroUsd: 700 }),
      delta({ hour: h0, keyId: null, clientId: 'cli_c', tenant: 'globex', model: 'gpt-4o', costMicroUsd: 50 }),
      delta({ hour: h0 + hour, keyId: 'key_a', model: 'gpt-4o', costMicroUsd: 10 }),
      delta({ hour: h0 + 2 * hour, keyId: 'key_a', model: 'gpt-4o', costMicroUsd: 1 })
    ])
  }

  test('usage query: grouped by model sums over hours, keys and tenants, costliest first', withStore(async (store) => {
    await seed(store)
    const rows = await store.usage.query(everything({ groupBy: ['model'] }))
    assert.deepEqual(rows.map((r) => [r.model, r.requests, r.costMicroUsd, r.hour, r.keyId, r.tenant]), [
      ['gpt-4o-mini', 1, 700, null, null, null],
      ['gpt-4o', 4, 161, null, null, null]
    ])
    const totals = await store.usage.query(everything({ groupBy: [] }))
    assert.deepEqual(totals, [{ hour: null, keyId: null, clientId: null, tenant: null, model: null, requests: 5, inputTokens: 50, outputTokens: 100, costMicroUsd: 861 }])
    assert.deepEqual(await store.usage.query(everything({ groupBy: [], from: h0 + 10 * hour })), [])
  }))

  test('usage query: by hour and key, ordered by hour then cost; limit cuts the list', withStore(async (store) => {
    await seed(store)
    const rows = await store.usage.query(everything({ groupBy: ['hour', 'key'] }))
    assert.deepEqual(rows.map((r) => [r.hour, r.keyId, r.costMicroUsd]), [
      [h0, 'key_b', 700], [h0, 'key_a', 100], [h0, null, 50], [h0 + hour, 'key_a', 10], [h0 + 2 * hour, 'key_a', 1]
    ])
    const two = await store.usage.query(everything({ groupBy: ['hour', 'key'], limit: 2 }))
    assert.deepEqual(two.map((r) => r.keyId), ['key_b', 'key_a'])
  }))

  test('usage query: filters by key, client, tenant and model; from is floored to the hour, to is exclusive', withStore(async (store) => {
    await seed(store)
    const sum = async (q: Partial<UsageQuery>): Promise<number> =>
      (await store.usage.query(everything({ groupBy: [], ...q })))[0]?.costMicroUsd ?? 0
    assert.equal(await sum({ keyId: 'key_a' }), 111)
    assert.equal(await sum({ clientId: 'cli_c' }), 50)
    assert.equal(await sum({ tenant: 'globex' }), 50)
    assert.equal(await sum({ tenant: 'acme', model: 'gpt-4o' }), 111)
    assert.equal(await sum({ keyId: 'key_a', tenant: 'globex' }), 0)
    assert.equal(await sum({ from: h0 + hour + 1 }), 11)
    assert.equal(await sum({ from: h0, to: h0 + hour }), 850)
    assert.equal(await sum({ from: h0, to: h0 + hour + 1 }), 860)
    const tenants = await store.usage.query(everything({ groupBy: ['tenant', 'client'] }))
    assert.deepEqual(tenants.map((r) => [r.tenant, r.clientId, r.costMicroUsd]), [['acme', null, 811], ['globex', 'cli_c', 50]])
  }))
}
