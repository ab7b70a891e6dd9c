import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultPrices } from './default-prices.ts'
import { validateModelPattern } from './policy-rules.ts'

test('the default price table: unique valid patterns, whole micro-USD, the listed models present', () => {
  const models = defaultPrices.map((p) => p.model)
  assert.equal(new Set(models).size, models.length, 'no model listed twice')
  for (const p of defaultPrices) {
    assert.equal(validateModelPattern(p.model, 'model'), p.model)
    for (const amount of [p.inputMicroUsdPerMillion, p.outputMicroUsdPerMillion]) assert.ok(Number.isSafeInteger(amount) && amount >= 0, p.model)
  }
  const price = (model: string): [number, number] | undefined => {
    const p = defaultPrices.find((e) => e.model === model)
    return p === undefined ? undefined : [p.inputMicroUsdPerMillion, p.outputMicroUsdPerMillion]
  }
  assert.deepEqual(price('gpt-4o-mini'), [150_000, 600_000])
  assert.deepEqual(price('gpt-4o'), [2_500_000, 10_000_000])
  assert.deepEqual(price('claude-sonnet-4-*'), [3_000_000, 15_000_000])
  assert.deepEqual(price('text-embedding-3-small'), [20_000, 0])
  assert.deepEqual(price('mock-*'), [0, 0])
  for (const model of ['gpt-4.1', 'gpt-4.1-mini', 'o3-mini', 'claude-3-5-sonnet-*', 'claude-3-5-haiku-*', 'text-embedding-3-large']) {
    assert.notEqual(price(model), undefined, model)
  }
  assert.ok(Object.isFrozen(defaultPrices) && Object.isFrozen(defaultPrices[0]), 'the shared table cannot be edited at run time')
})
