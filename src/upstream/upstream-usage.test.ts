import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_REPORTED_TOKENS, readUsage, usageOf } from './upstream-usage.ts'

test('valid usage is read; absurd counts are clamped', () => {
  assert.deepEqual(readUsage({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }), { inputTokens: 12, outputTokens: 3 })
  assert.deepEqual(readUsage({ prompt_tokens: 1e12, completion_tokens: 0 }), { inputTokens: MAX_REPORTED_TOKENS, outputTokens: 0 })
})

test('negative, fractional, non-finite, stringly or missing counts make the usage missing', () => {
  for (const bad of [
    { prompt_tokens: -1, completion_tokens: 1 },
    { prompt_tokens: 1.5, completion_tokens: 1 },
    { prompt_tokens: Number.POSITIVE_INFINITY, completion_tokens: 1 },
    { prompt_tokens: Number.NaN, completion_tokens: 1 },
    { prompt_tokens: '10', completion_tokens: 1 },
    { prompt_tokens: 10 },
    { completion_tokens: 10 },
    null,
    'usage'
  ]) assert.equal(readUsage(bad), null, JSON.stringify(bad))
})

test('embeddings usage has no completion_tokens; a chunk or body carries usage in its `usage` field', () => {
  assert.deepEqual(readUsage({ prompt_tokens: 4, total_tokens: 4 }, true), { inputTokens: 4, outputTokens: 0 })
  assert.deepEqual(usageOf({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 5 } }), { inputTokens: 2, outputTokens: 5 })
  assert.equal(usageOf({ choices: [], usage: null }), null)
  assert.equal(usageOf(undefined), null)
})
