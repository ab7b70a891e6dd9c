import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../errors/gateway-error.ts'
import { costMicroUsd, createPriceTable, type Price } from './pricing.ts'

const table = createPriceTable([
  { model: 'gpt-4o', inputMicroUsdPerMillion: 2_500_000, outputMicroUsdPerMillion: 10_000_000 },
  { model: 'gpt-4o*', inputMicroUsdPerMillion: 5_000_000, outputMicroUsdPerMillion: 15_000_000 },
  { model: 'gpt-4o-mini*', inputMicroUsdPerMillion: 150_000, outputMicroUsdPerMillion: 600_000 },
  { model: 'gpt-*', inputMicroUsdPerMillion: 1, outputMicroUsdPerMillion: 1 },
  { model: 'claude-3-5-sonnet-20241022', inputMicroUsdPerMillion: 3_000_000, outputMicroUsdPerMillion: 15_000_000 }
])

function price (input: number, output: number): Price {
  return { model: 'test', inputMicroUsdPerMillion: input, outputMicroUsdPerMillion: output }
}

test('an exact entry wins over every prefix; otherwise the longest prefix', () => {
  assert.equal(table.priceFor('gpt-4o')?.model, 'gpt-4o')
  assert.equal(table.priceFor('gpt-4o-2024-08-06')?.model, 'gpt-4o*')
  assert.equal(table.priceFor('gpt-4o-mini-2024-07-18')?.model, 'gpt-4o-mini*')
  assert.equal(table.priceFor('gpt-3.5-turbo')?.model, 'gpt-*')
  assert.equal(table.priceFor('claude-3-5-sonnet-20241022')?.inputMicroUsdPerMillion, 3_000_000)
})

test('an unknown model has no price (null), and matching is case-sensitive', () => {
  assert.equal(table.priceFor('llama-3.1-8b'), null)
  assert.equal(table.priceFor('claude-3-5-sonnet'), null)
  assert.equal(table.priceFor('GPT-4O'), null)
  assert.equal(createPriceTable([]).priceFor('gpt-4o'), null)
})

test('`*` alone is a catch-all that any more specific entry beats', () => {
  const withDefault = createPriceTable([
    { model: '*', inputMicroUsdPerMillion: 1_000_000, outputMicroUsdPerMillion: 2_000_000 },
    { model: 'gpt-4o*', inputMicroUsdPerMillion: 5, outputMicroUsdPerMillion: 5 }
  ])
  assert.equal(withDefault.priceFor('anything')?.model, '*')
  assert.equal(withDefault.priceFor('gpt-4o-x')?.model, 'gpt-4o*')
})

test('costs are exact integers in micro-USD', () => {
  const gpt4o = table.priceFor('gpt-4o') as Price
  assert.equal(costMicroUsd(gpt4o, 1_000_000, 0), 2_500_000) // $2.50
  assert.equal(costMicroUsd(gpt4o, 0, 1_000_000), 10_000_000) // $10
  assert.equal(costMicroUsd(gpt4o, 1000, 500), 2500 + 5000)
  assert.equal(costMicroUsd(gpt4o, 0, 0), 0)
})

test('a fraction of a micro-USD is rounded up, once per request', () => {
  const mini = table.priceFor('gpt-4o-mini') as Price
  assert.equal(costMicroUsd(mini, 1, 0), 1) // 0.15 µ$ → 1
  assert.equal(costMicroUsd(mini, 7, 0), 2) // 1.05 µ$ → 2
  assert.equal(costMicroUsd(mini, 20, 0), 3) // exactly 3 µ$ stays 3
  // Input and output are summed before rounding: 0.4 + 0.4 µ$ is 1 µ$, not 2.
  assert.equal(costMicroUsd(price(400_000, 400_000), 1, 1), 1)
  assert.equal(costMicroUsd(price(0, 0), 1_000_000, 1_000_000), 0) // a free model costs nothing
})

test('no precision is lost where float arithmetic would lose it', () => {
  // tokens × price passes 2^53: float arithmetic answers 9007190247541736, one micro-USD short.
  const tokens = Number.MAX_SAFE_INTEGER
  const p = price(999_999, 0)
  assert.equal(Math.ceil(tokens * 999_999 / 1_000_000), 9_007_190_247_541_736)
  assert.equal(costMicroUsd(p, tokens, 0), 9_007_190_247_541_737)
  assert.equal(costMicroUsd(price(3_000_003, 7), 3_000_000_001, 1), Number((3_000_000_001n * 3_000_003n + 7n + 999_999n) / 1_000_000n))
})

test('a cost past Number.MAX_SAFE_INTEGER saturates instead of wrapping or going inexact', () => {
  const p = price(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  assert.equal(costMicroUsd(p, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER)
})

test('token counts that are not non-negative safe integers are a bug: RangeError', () => {
  const p = price(1, 1)
  for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
    assert.throws(() => costMicroUsd(p, bad, 0), RangeError)
    assert.throws(() => costMicroUsd(p, 0, bad), RangeError)
  }
})

test('invalid entries are refused with invalid_request naming the entry', () => {
  const ok = { inputMicroUsdPerMillion: 1, outputMicroUsdPerMillion: 1 }
  const cases: Array<[unknown[], string]> = [
    [[{ model: '', ...ok }], 'prices[0]'],
    [[{ model: 'a', ...ok }, { model: 'gpt*4', ...ok }], 'prices[1]'],
    [[{ model: 'a*', ...ok }, { model: 'a*', ...ok }], 'prices[1]'],
    [[{ model: 'a', inputMicroUsdPerMillion: -1, outputMicroUsdPerMillion: 1 }], 'prices[0]'],
    [[{ model: 'a', inputMicroUsdPerMillion: 1, outputMicroUsdPerMillion: 2.5 }], 'prices[0]'],
    [[{ model: 'a', inputMicroUsdPerMillion: '1', outputMicroUsdPerMillion: 1 }], 'prices[0]'],
    [[{ model: 7, ...ok }], 'prices[0]']
  ]
  for (const [entries, param] of cases) {
    assert.throws(() => createPriceTable(entries as never), (err: unknown) => {
      assert.ok(err instanceof GatewayError)
      assert.equal(err.code, 'invalid_request')
      assert.equal(err.param, param)
      return true
    }, JSON.stringify(entries))
  }
})

test('prices returned are frozen: a caller cannot change the table', () => {
  const p = table.priceFor('gpt-4o') as Price
  assert.throws(() => { (p as { inputMicroUsdPerMillion: number }).inputMicroUsdPerMillion = 0 }, TypeError)
  assert.equal(table.priceFor('gpt-4o')?.inputMicroUsdPerMillion, 2_500_000)
})

test('the double fast path and the BigInt path agree, also next to 2^53 and at exact multiples', () => {
  const reference = (p: Price, i: number, o: number): number => {
    const total = BigInt(i) * BigInt(p.inputMicroUsdPerMillion) + BigInt(o) * BigInt(p.outputMicroUsdPerMillion)
    const cost = (total + 999_999n) / 1_000_000n
    return Number(cost > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : cost)
  }
  const prices: Price[] = [
    { model: 'a', inputMicroUsdPerMillion: 150_000, outputMicroUsdPerMillion: 600_000 },
    { model: 'b', inputMicroUsdPerMillion: 1, outputMicroUsdPerMillion: 999_999_999 },
    { model: 'c', inputMicroUsdPerMillion: 7_777_777, outputMicroUsdPerMillion: 3 }
  ]
  const counts = [0, 1, 2, 999_999, 1_000_000, 1_000_001, 123_456_789, 2 ** 31, 2 ** 40 + 7, 2 ** 53 - 1]
  let seed = 7
  for (let n = 0; n < 2000; n++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    counts.push(seed % 5_000_000)
  }
  for (const p of prices) {
    for (let k = 0; k < counts.length; k++) {
      const i = counts[k] as number
      const o = counts[(k * 7 + 3) % counts.length] as number
      assert.equal(costMicroUsd(p, i, o), reference(p, i, o), `${p.model} ${i} ${o}`)
    }
  }
  // Totals right at the edge of the fast path: 2^53 − 1 and just above it.
  const one: Price = { model: 'one', inputMicroUsdPerMillion: 1, outputMicroUsdPerMillion: 1 }
  assert.equal(costMicroUsd(one, 2 ** 52, 2 ** 52 - 1), reference(one, 2 ** 52, 2 ** 52 - 1))
  assert.equal(costMicroUsd(one, 2 ** 52, 2 ** 52), reference(one, 2 ** 52, 2 ** 52))
})
