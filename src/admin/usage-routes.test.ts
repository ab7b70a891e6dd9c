import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { UsageDelta } from '../store/store.ts'
import { call, limitsAdminHarness, type LimitsAdminHarness } from './limits-routes-fixture.ts'

const hour = 3_600_000
// 2025-01-31T12:00:00Z, a fixed clock so the default window is predictable.
const noon = Date.UTC(2025, 0, 31, 12)
const now = noon + 30 * 60_000

function delta (overrides: Partial<UsageDelta>): UsageDelta {
  return { hour: noon, keyId: 'key_a', clientId: null, tenant: 'acme', model: 'gpt-4o', requests: 1, inputTokens: 100, outputTokens: 50, costMicroUsd: 750, ...overrides }
}

async function seeded (t: TestContext): Promise<LimitsAdminHarness> {
  const h = await limitsAdminHarness(t, { now: () => now })
  await h.store.usage.add([
    delta({}),
    delta({ hour: noon - hour, model: 'gpt-4o-mini', costMicroUsd: 1_234_567 }),
    delta({ hour: noon - 2 * hour, keyId: null, clientId: 'cli_g', tenant: 'globex', costMicroUsd: 3 }),
    delta({ hour: noon - 30 * hour, costMicroUsd: 999_999_999 })
  ])
  return h
}

test('GET /usage defaults to the last 24 h by model, costs in USD with 6 places, and totals', async (t) => {
  const h = await seeded(t)
  const res = await call(h, 'GET', '/usage', h.operator)
  assert.equal(res.status, 200, res.text)
  assert.deepEqual(res.body, {
    object: 'list',
    from: (noon - 24 * hour) / 1000,
    to: now / 1000,
    group_by: ['model'],
    data: [
      { hour: null, key_id: null, client_id: null, tenant: null, model: 'gpt-4o-mini', requests: 1, input_tokens: 100, output_tokens: 50, cost_usd: 1.234567 },
      { hour: null, key_id: null, client_id: null, tenant: null, model: 'gpt-4o', requests: 2, input_tokens: 200, output_tokens: 100, cost_usd: 0.000753 }
    ],
    has_more: false,
    totals: { requests: 3, input_tokens: 300, output_tokens: 150, cost_usd: 1.23532 }
  })
})

test('from/to take Unix seconds or ISO 8601; group_by, filters and limit shape the rows', async (t) => {
  const h = await seeded(t)
  const iso = await call(h, 'GET', `/usage?from=2025-01-30T00:00:00Z&to=${now / 1000}&group_by=hour,key`, h.operator)
  assert.deepEqual(iso.body.data.map((r: { hour: number, key_id: string | null }) => [r.hour, r.key_id]), [
    [(noon - 30 * hour) / 1000, 'key_a'], [(noon - 2 * hour) / 1000, null], [(noon - hour) / 1000, 'key_a'], [noon / 1000, 'key_a']
  ])
  const keyOnly = await call(h, 'GET', '/usage?key=key_a&group_by=', h.operator)
  assert.deepEqual(keyOnly.body.data.map((r: { requests: number }) => r.requests), [2])
  const client = await call(h, 'GET', '/usage?client=cli_g&group_by=client,tenant', h.operator)
  assert.deepEqual(client.body.data.map((r: { client_id: string, tenant: string }) => [r.client_id, r.tenant]), [['cli_g', 'globex']])
  const model = await call(h, 'GET', '/usage?model=gpt-4o-mini', h.operator)
  assert.equal(model.body.totals.requests, 1)
  const limited = await call(h, 'GET', '/usage?group_by=hour&limit=1', h.operator)
  assert.deepEqual([limited.body.data.length, limited.body.has_more, limited.body.totals.requests], [1, true, 3])
  const bad: Array<[string, string]> = [
    ['from=yesterday', 'from'], ['from=2025-02-01&to=2025-01-31', 'from'], ['from=2025-13-01T00:00:00Z', 'from'], ['to=12.5', 'to'],
    ['group_by=model,user', 'group_by'], ['limit=0', 'limit'], ['limit=10001', 'limit'], ['colour=red', 'colour'], ['key=a&key=b', 'key']
  ]
  for (const [query, param] of bad) {
    const res = await call(h, 'GET', `/usage?${query}`, h.operator)
    assert.equal(res.status, 400, query)
    assert.equal(res.body.error.param, param, query)
  }
})

test('a tenant-bound caller sees its own tenant\'s usage only; asking for another tenant is 403', async (t) => {
  const h = await seeded(t)
  const mine = await call(h, 'GET', '/usage?group_by=tenant', h.acmeAdmin)
  assert.deepEqual(mine.body.data.map((r: { tenant: string }) => r.tenant), ['acme'])
  assert.equal(mine.body.totals.requests, 2)
  const byClient = await call(h, 'GET', '/usage?client=cli_g', h.acmeAdmin)
  assert.deepEqual([byClient.body.data, byClient.body.totals.requests], [[], 0], 'a filter cannot reach across tenants')
  const other = await call(h, 'GET', '/usage?tenant=globex', h.acmeAdmin)
  assert.equal(other.status, 403)
  assert.equal(other.body.error.param, 'tenant')
  assert.equal((await call(h, 'GET', '/usage?tenant=acme', h.acmeAdmin)).status, 200)
  const globex = await call(h, 'GET', '/usage?tenant=globex', h.operator)
  assert.equal(globex.body.totals.requests, 1)
  assert.equal((await call(h, 'GET', '/usage', h.keysOnly)).status, 403)
})
