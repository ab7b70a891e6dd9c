import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../errors/gateway-error.ts'
import { completionCount, requestedMaxTokens } from './max-tokens.ts'

function assertInvalid (fn: () => unknown, param: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError)
    assert.equal(err.code, 'invalid_request')
    assert.equal(err.status, 400)
    assert.equal(err.param, param)
    assert.equal(err.message, `${param} must be a positive integer.`)
    return true
  })
}

test('chat reads max_completion_tokens, or max_tokens, and reserves the larger when both are set', () => {
  assert.equal(requestedMaxTokens('chat.completions', { max_completion_tokens: 300 }), 300)
  assert.equal(requestedMaxTokens('chat.completions', { max_tokens: 200 }), 200)
  assert.equal(requestedMaxTokens('chat.completions', { max_completion_tokens: 300, max_tokens: 50 }), 300)
  assert.equal(requestedMaxTokens('chat.completions', { max_completion_tokens: 50, max_tokens: 300 }), 300)
  assert.equal(requestedMaxTokens('chat.completions', { max_completion_tokens: null, max_tokens: 70 }), 70)
})

test('no cap in the request: null, so the stage applies its configured cap', () => {
  assert.equal(requestedMaxTokens('chat.completions', { messages: [] }), null)
  assert.equal(requestedMaxTokens('completions', { prompt: 'x', max_tokens: null }), null)
  assert.equal(requestedMaxTokens('completions', { prompt: 'x', max_completion_tokens: 99 }), null) // not a completions field
})

test('n > 1 multiplies the reservation; completions also count best_of', () => {
  assert.equal(requestedMaxTokens('chat.completions', { max_tokens: 100, n: 3 }), 300)
  assert.equal(completionCount('chat.completions', { n: 3 }), 3)
  assert.equal(completionCount('chat.completions', {}), 1)
  assert.equal(requestedMaxTokens('completions', { max_tokens: 100, n: 2, best_of: 5 }), 500)
  assert.equal(requestedMaxTokens('completions', { max_tokens: 100, n: 4, best_of: 2 }), 400)
  assert.equal(completionCount('chat.completions', { best_of: 5 }), 1) // chat has no best_of
})

test('embeddings and models produce no output', () => {
  assert.equal(requestedMaxTokens('embeddings', { input: 'x', max_tokens: 'ignored', n: 'ignored' }), 0)
  assert.equal(completionCount('embeddings', { input: 'x' }), 0)
  assert.equal(requestedMaxTokens('models', null), 0)
})

test('malformed caps and counts are a 400 naming the field', () => {
  for (const bad of [0, -1, 1.5, '100', true, [], {}, Number.NaN, Infinity, 2 ** 53]) {
    assertInvalid(() => requestedMaxTokens('chat.completions', { max_tokens: bad }), 'max_tokens')
    assertInvalid(() => requestedMaxTokens('chat.completions', { max_completion_tokens: bad }), 'max_completion_tokens')
    assertInvalid(() => requestedMaxTokens('chat.completions', { max_tokens: 10, n: bad }), 'n')
    assertInvalid(() => requestedMaxTokens('completions', { max_tokens: 10, best_of: bad }), 'best_of')
  }
  // A malformed max_tokens is refused even when max_completion_tokens is valid: both reach the upstream.
  assertInvalid(() => requestedMaxTokens('chat.completions', { max_completion_tokens: 10, max_tokens: -5 }), 'max_tokens')
})

test('huge values saturate at Number.MAX_SAFE_INTEGER instead of losing precision', () => {
  assert.equal(requestedMaxTokens('chat.completions', { max_tokens: Number.MAX_SAFE_INTEGER, n: 128 }), Number.MAX_SAFE_INTEGER)
  assert.equal(requestedMaxTokens('chat.completions', { max_tokens: 2 ** 40, n: 2 }), 2 ** 41)
})

test('a body that is not an object has no cap and one completion', () => {
  assert.equal(requestedMaxTokens('chat.completions', 'text'), null)
  assert.equal(requestedMaxTokens('chat.completions', [1, 2]), null)
  assert.equal(completionCount('completions', null), 1)
})
