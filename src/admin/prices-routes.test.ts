import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultPrices } from '../limits/default-prices.ts'
import { call, limitsAdminHarness } from './limits-routes-fixture.ts'

type Price = { model: string, input_per_million_usd: number, output_per_million_usd: number, source: string, updated_by: string | null }

const byModel = (data: Price[]): Record<string, Price> => Object.fromEntries(data.map((p) => [p.model, p]))

test('GET /prices is the built-in table, then config, then admin overrides, each marked with its source', async (t) => {
  const h = await limitsAdminHarness(t, { configured: [{ model: 'gpt-4o', inputMicroUsdPerMillion: 2_000_000, outputMicroUsdPerMillion: 9_000_000 }] })
  const first = await call(h, 'GET', '/prices', h.operator)
  assert.equal(first.status, 200)
  const table = byModel(first.body.data)
  assert.equal(first.body.data.length, defaultPrices.length)
  assert.deepEqual(table['gpt-4o-mini'], {
    object: 'price', model: 'gpt-4o-mini', input_per_million_usd: 0.15, output_per_million_usd: 0.6, source: 'default', updated_at: null, updated_by: null
  })
  assert.deepEqual([table['gpt-4o']?.input_per_million_usd, table['gpt-4o']?.source], [2, 'config'])
  assert.deepEqual([table['mock-*']?.input_per_million_usd, table['mock-*']?.output_per_million_usd], [0, 0])
  const models = first.body.data.map((p: Price) => p.model)
  assert.deepEqual(models, [...models].sort(), 'sorted by model')
  const set = await call(h, 'POST', '/prices/gpt-4o', h.operator, { input_per_million_usd: 1.25, output_per_million_usd: 5 })
  assert.equal(set.status, 200, set.text)
  assert.equal(set.body.source, 'override')
  assert.match(set.body.updated_by, /^key_/)
  assert.equal(set.body.updated_at, Math.floor(h.clock.now / 1000))
  assert.deepEqual(await h.store.prices.listAll(), [{
    model: 'gpt-4o', inputMicroUsdPerMillion: 1_250_000, outputMicroUsdPerMillion: 5_000_000, updatedAt: h.clock.now, updatedBy: set.body.updated_by
  }])
  assert.deepEqual(byModel((await call(h, 'GET', '/prices', h.acmeAdmin)).body.data)['gpt-4o'], set.body, 'a tenant admin may read prices')
  const unset = await call(h, 'DELETE', '/prices/gpt-4o', h.operator)
  assert.equal(unset.status, 200)
  assert.equal(unset.body.deleted, true)
  assert.equal(unset.body.effective.source, 'config', 'back to the config price')
  assert.equal((await call(h, 'DELETE', '/prices/gpt-4o', h.operator)).status, 404)
  assert.equal(h.changes.prices, 2)
})

test('model names with /, : and a trailing * are one URL-encoded path segment', async (t) => {
  const h = await limitsAdminHarness(t)
  for (const model of ['meta-llama/Llama-3.1-8B-Instruct', 'qwen2.5:7b', 'qwen2.5-*']) {
    const res = await call(h, 'POST', `/prices/${encodeURIComponent(model)}`, h.operator, { input_per_million_usd: 0.1, output_per_million_usd: 0.2 })
    assert.equal(res.status, 200, `${model}: ${res.text}`)
    assert.equal(res.body.model, model)
  }
  assert.deepEqual((await h.store.prices.listAll()).map((p) => p.model).sort(), ['meta-llama/Llama-3.1-8B-Instruct', 'qwen2.5-*', 'qwen2.5:7b'])
  const gone = await call(h, 'DELETE', `/prices/${encodeURIComponent('meta-llama/Llama-3.1-8B-Instruct')}`, h.operator)
  assert.deepEqual([gone.status, gone.body.effective], [200, null])
})

test('prices: only the operator writes; bad amounts and patterns are refused with the field named', async (t) => {
  const h = await limitsAdminHarness(t)
  const body = { input_per_million_usd: 0, output_per_million_usd: 0 }
  for (const [method, payload] of [['POST', body], ['DELETE', undefined]] as const) {
    const res = await call(h, method, '/prices/gpt-4o', h.acmeAdmin, payload)
    assert.equal(res.status, 403, method)
    assert.equal(res.body.error.code, 'forbidden')
  }
  assert.equal((await call(h, 'GET', '/prices', h.keysOnly)).status, 403)
  const cases: Array<[string, unknown, string]> = [
    ['gpt-4o', { input_per_million_usd: -1, output_per_million_usd: 1 }, 'input_per_million_usd'],
    ['gpt-4o', { input_per_million_usd: 1, output_per_million_usd: 10_001 }, 'output_per_million_usd'],
    ['gpt-4o', { input_per_million_usd: 1 }, 'output_per_million_usd'],
    ['gpt-4o', { input_per_million_usd: '1', output_per_million_usd: 1 }, 'input_per_million_usd'],
    ['gpt-4o', { ...body, currency: 'eur' }, 'currency'],
    ['gpt-*-mini', body, 'model'],
    ['gpt\u00014o', body, 'model']
  ]
  for (const [model, payload, param] of cases) {
    const res = await call(h, 'POST', `/prices/${encodeURIComponent(model)}`, h.operator, payload)
    assert.equal(res.status, 400, JSON.stringify(payload))
    assert.equal(res.body.error.param, param)
  }
  assert.deepEqual(await h.store.prices.listAll(), [])
  assert.equal(h.changes.prices, 0)
})
