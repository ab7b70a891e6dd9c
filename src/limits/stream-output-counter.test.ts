import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base'
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base'
import { APPROXIMATION_FACTOR } from './estimate-tokens.ts'
import { createStreamOutputCounter } from './stream-output-counter.ts'

const PLAIN = { disallowedSpecial: new Set<string>() }

/** Deterministic varied text (seeded LCG) with spaces, punctuation, newlines and non-ASCII. */
function reply (chars: number, seed = 3): string {
  const words = ['Sure', 'here', 'is', 'the', 'answer:', 'tokens', 'são', 'contados', '東京', 'naïve', '🎉', '42,', 'x', '\n\n-', 'e.g.', '(see', 'RFC 9110)']
  let state = seed
  let text = ''
  while (text.length < chars) {
    state = (state * 1103515245 + 12345) % 2147483648
    text += (text.length > 0 ? ' ' : '') + words[(state >>> 8) % words.length]
  }
  return text.slice(0, chars)
}

/** Splits text into deltas of 1..7 characters, as upstreams stream them (never inside a surrogate pair). */
function deltas (text: string): string[] {
  const chars = Array.from(text)
  const out: string[] = []
  for (let i = 0, size = 1; i < chars.length; i += size, size = (size % 7) + 1) out.push(chars.slice(i, i + size).join(''))
  return out
}

const chatChunk = (content: string, index = 0) => ({ id: 'c', object: 'chat.completion.chunk', choices: [{ index, delta: { content }, finish_reason: null }] })

test('a chat stream in small deltas counts exactly as the whole reply', () => {
  const text = reply(30_000)
  for (const [model, count] of [['gpt-4o', o200k], ['gpt-4', cl100k]] as const) {
    const counter = createStreamOutputCounter(model)
    counter.add({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })
    for (const piece of deltas(text)) counter.add(chatChunk(piece))
    counter.add({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })
    counter.add({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } })
    assert.equal(counter.tokens(), count(text, PLAIN), model)
  }
})

test('tokens() can be read at any point: what has been produced so far', () => {
  const counter = createStreamOutputCounter('gpt-4o')
  assert.equal(counter.tokens(), 0)
  counter.add(chatChunk('Hello'))
  assert.equal(counter.tokens(), 1)
  counter.add(chatChunk(', world!'))
  assert.equal(counter.tokens(), o200k('Hello, world!'))
})

test('a completions stream counts choices[].text', () => {
  const text = reply(5000, 9)
  const counter = createStreamOutputCounter('gpt-3.5-turbo-instruct')
  for (const piece of deltas(text)) counter.add({ object: 'text_completion', choices: [{ index: 0, text: piece, finish_reason: null }] })
  assert.equal(counter.tokens(), cl100k(text, PLAIN))
})

test('n > 1: interleaved choices are counted separately, never merged into one text', () => {
  const a = reply(3000, 1)
  const b = reply(3000, 2)
  const counter = createStreamOutputCounter('gpt-4o')
  const da = deltas(a)
  const db = deltas(b)
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    if (da[i] !== undefined) counter.add(chatChunk(da[i] as string, 0))
    if (db[i] !== undefined) counter.add(chatChunk(db[i] as string, 1))
  }
  assert.equal(counter.tokens(), o200k(a, PLAIN) + o200k(b, PLAIN))
})

test('tool-call names and streamed arguments, reasoning and refusals are output too', () => {
  const args = '{"location":"San Francisco, CA","unit":"celsius"}'
  const counter = createStreamOutputCounter('gpt-4o')
  counter.add({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] } }] })
  for (const piece of deltas(args)) counter.add({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] } }] })
  const toolTokens = o200k('get_weather' + args)
  assert.equal(counter.tokens(), toolTokens)
  counter.add({ choices: [{ index: 0, delta: { reasoning_content: 'Let me think.' } }] })
  counter.add({ choices: [{ index: 0, delta: { refusal: 'I cannot.' } }] })
  assert.equal(counter.tokens(), toolTokens + o200k('Let me think.') + o200k('I cannot.'))
})

test('a non-streamed body can be counted too (choices[].message)', () => {
  const counter = createStreamOutputCounter('gpt-4o')
  counter.add({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 42.' }, finish_reason: 'stop' }] })
  assert.equal(counter.tokens(), o200k('The answer is 42.'))
})

test('other models: the same approximation as for prompts', () => {
  const text = reply(8000, 5)
  const counter = createStreamOutputCounter('claude-3-5-sonnet-20241022')
  for (const piece of deltas(text)) counter.add(chatChunk(piece))
  assert.equal(counter.tokens(), Math.max(Math.ceil(o200k(text, PLAIN) * APPROXIMATION_FACTOR), Math.ceil(text.length / 4)))
})

test('malformed events add nothing and never throw', () => {
  const counter = createStreamOutputCounter('gpt-4o')
  const events: unknown[] = [null, undefined, 42, 'data', [], {}, { choices: null }, { choices: 'x' }, { choices: [null, 1, 'x', []] },
    { choices: [{ delta: null }] }, { choices: [{ delta: 'text' }] }, { choices: [{ delta: { content: null, tool_calls: 'x' } }] },
    { choices: [{ delta: { tool_calls: [null, 1, { function: null }, { index: 'x' }] } }] }, { choices: [{ delta: { function_call: 7 } }] }]
  for (const event of events) counter.add(event)
  assert.equal(counter.tokens(), 0)
  counter.add({ choices: [{ index: 0, delta: { content: 12345 } }] }) // not a string: counted as its JSON text
  assert.equal(counter.tokens(), o200k('12345'))
})

test('thousands of hostile choice indexes (past the bucket cap) still have all their text counted', () => {
  const counter = createStreamOutputCounter('gpt-4o')
  for (let i = 0; i < 5000; i++) counter.add(chatChunk(' word', i * 7919))
  assert.ok(counter.tokens() >= 5000, String(counter.tokens()))
})

test('a long stream is linear: 1 MiB in 1-character deltas of one unbroken run', () => {
  const counter = createStreamOutputCounter('gpt-4o')
  const started = performance.now()
  const chunk = chatChunk('a')
  for (let i = 0; i < 1024 * 1024; i++) counter.add(chunk)
  const tokens = counter.tokens()
  const ms = performance.now() - started
  assert.ok(tokens > 0 && ms < 5000, `${tokens} tokens in ${ms.toFixed(0)} ms`)
})
