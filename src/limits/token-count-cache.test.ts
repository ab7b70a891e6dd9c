import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTokenCountCache, MAX_CACHED_TEXT_CHARS } from './token-count-cache.ts'
import { estimatePrompt } from './estimate-tokens.ts'

function counting () {
  const calls: string[] = []
  return { calls, count: (text: string) => { calls.push(text); return text.length } }
}

test('a text counted once is looked up afterwards, per tokenizer family', () => {
  const cache = createTokenCountCache({ maxEntries: 10 })
  const { calls, count } = counting()
  assert.equal(cache.count('o200k_base', 'You are a helpful assistant.', count), 28)
  assert.equal(cache.count('o200k_base', 'You are a helpful assistant.', count), 28)
  assert.equal(cache.count('cl100k_base', 'You are a helpful assistant.', count), 28)
  assert.deepEqual(calls, ['You are a helpful assistant.', 'You are a helpful assistant.'])
})

test('the cache holds at most maxEntries texts and maxChars characters, and 0 turns it off', () => {
  const cache = createTokenCountCache({ maxEntries: 4, maxChars: 1000 })
  const { calls, count } = counting()
  for (let i = 0; i < 100; i++) cache.count('o200k_base', `text ${i}`, count)
  calls.length = 0
  // The newest texts are still known, the oldest are forgotten.
  cache.count('o200k_base', 'text 99', count)
  cache.count('o200k_base', 'text 0', count)
  assert.deepEqual(calls, ['text 0'])

  const small = createTokenCountCache({ maxEntries: 100, maxChars: 40 })
  const a = counting()
  for (const text of ['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30)]) small.count('o200k_base', text, a.count)
  small.count('o200k_base', 'a'.repeat(30), a.count)
  assert.equal(a.calls.length, 4, 'past maxChars the oldest text is forgotten')

  const off = createTokenCountCache({ maxEntries: 0 })
  const b = counting()
  off.count('o200k_base', 'same text', b.count)
  off.count('o200k_base', 'same text', b.count)
  assert.equal(b.calls.length, 2)
})

test('a text in use survives generations; a text longer than the bound is never kept', () => {
  const cache = createTokenCountCache({ maxEntries: 4 })
  const { calls, count } = counting()
  for (let i = 0; i < 50; i++) {
    cache.count('o200k_base', 'the system prompt', count)
    cache.count('o200k_base', `question ${i}`, count)
  }
  assert.equal(calls.filter((t) => t === 'the system prompt').length, 1)
  const long = 'x'.repeat(MAX_CACHED_TEXT_CHARS + 1)
  cache.count('o200k_base', long, count)
  cache.count('o200k_base', long, count)
  assert.equal(calls.filter((t) => t === long).length, 2)
})

test('estimates are the same with and without the cache', () => {
  const cache = createTokenCountCache({ maxEntries: 64 })
  const bodies = [
    { model: 'gpt-4o', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello there, how are you?' }] },
    { model: 'gpt-4', messages: [{ role: 'user', name: 'ann', content: [{ type: 'text', text: 'Describe 東京 in one line.' }] }], tools: [{ type: 'function', function: { name: 'f' } }] },
    { model: 'llama-3', messages: [{ role: 'user', content: 'Bonjour '.repeat(500) }] }
  ]
  for (let round = 0; round < 3; round++) {
    for (const body of bodies) {
      assert.deepEqual(estimatePrompt('chat.completions', body, body.model, undefined, cache), estimatePrompt('chat.completions', body, body.model))
    }
  }
})
