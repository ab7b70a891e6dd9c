import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base'
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base'
import {
  APPROXIMATION_FACTOR, MAX_TOKENIZED_CHARS, countTextTokens, estimatePrompt, estimatePromptTokens, jsonText, tokenizerFamily
} from './estimate-tokens.ts'

const PLAIN = { disallowedSpecial: new Set<string>() }

/** Deterministic varied text (seeded LCG): invented words, punctuation, numbers, newlines, non-ASCII. */
function prose (chars: number, seed = 7): string {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tas', 'vel', 'qu', 'or', 'ist', 'ent', 'ba', 'de', 'ü', 'ñe', '東', 'strö']
  const joiners = [' ', ' ', ' ', ' ', ', ', '. ', '; ', '\n\n', ' (', ') ', ' 42 ', ' 3.14 ', " don't ", ' — ', '  ', ' 🎉 ']
  let state = seed
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648
    return (state >>> 8) % n
  }
  let text = ''
  while (text.length < chars) {
    const length = 1 + next(4)
    for (let i = 0; i < length; i++) text += syllables[next(syllables.length)]
    text += joiners[next(joiners.length)]
  }
  return text.slice(0, chars)
}

// The example of OpenAI's cookbook "How to count tokens with tiktoken" (6 messages), whose
// prompt_tokens the API reported as 129 for gpt-3.5-turbo and gpt-4, 124 for gpt-4o and gpt-4o-mini.
const cookbookMessages = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: 'Let\'s circle back when we have more bandwidth to touch base on opportunities for increased leverage.' },
  { role: 'system', name: 'example_assistant', content: 'Let\'s talk later when we\'re less busy about how to do better.' },
  { role: 'user', content: 'This late pivot means we don\'t have time to boil the ocean for the client deliverable.' }
]

test('chat overhead matches the prompt_tokens OpenAI reported for the cookbook example', () => {
  for (const model of ['gpt-3.5-turbo', 'gpt-4-0613', 'gpt-4']) {
    assert.equal(estimatePromptTokens('chat.completions', { model, messages: cookbookMessages }, model), 129, model)
  }
  for (const model of ['gpt-4o', 'gpt-4o-mini']) {
    assert.equal(estimatePromptTokens('chat.completions', { model, messages: cookbookMessages }, model), 124, model)
  }
})

test('tool definitions are counted as their JSON text: at or a little above what OpenAI reports', () => {
  // Cookbook section 7: the API reported 105 (gpt-4) and 101 (gpt-4o) prompt tokens. OpenAI
  // renders tools in a terser internal format than JSON, so the estimate is somewhat higher.
  const tools = [{
    type: 'function',
    function: {
      name: 'get_current_weather',
      description: 'Get the current weather in a given location',
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
          unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] }
        },
        required: ['location']
      }
    }
  }]
  const messages = [
    { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
    { role: 'user', content: 'What\'s the weather like in San Francisco?' }
  ]
  for (const [model, reported] of [['gpt-4', 105], ['gpt-4o', 101]] as const) {
    const estimate = estimatePromptTokens('chat.completions', { messages, tools }, model)
    assert.ok(estimate >= reported && estimate <= reported * 1.25, `${model}: ${estimate} vs ${reported}`)
    assert.ok(estimate > estimatePromptTokens('chat.completions', { messages }, model) + 50, 'tools add their definition')
  }
})

test('fixed strings count exactly as gpt-tokenizer counts them', () => {
  assert.equal(countTextTokens('tiktoken is great!', 'gpt-4'), 6) // the cookbook's cl100k example
  for (const text of ['Hello, world!', 'tiktoken is great!', '東京タワーの高さは333メートルです。', 'naïve café — déjà vu 🎉', '']) {
    assert.equal(countTextTokens(text, 'gpt-4o'), o200k(text), text)
    assert.equal(countTextTokens(text, 'gpt-3.5-turbo'), cl100k(text), text)
  }
})

test('long text is counted in segments with exactly the count of the whole text', () => {
  const text = prose(60_000)
  assert.equal(countTextTokens(text, 'gpt-4.1'), o200k(text, PLAIN))
  assert.equal(countTextTokens(text, 'gpt-4-turbo'), cl100k(text, PLAIN))
})

test('cutting at a space after a non-space is exact, whatever whitespace and punctuation surround it', () => {
  const alphabet = [' ', ' ', 'ab', 'Cd', '  ', '\n', '\r\n', '\t', '.', "'s", "'LL", '12', '345', '/', ' !', 'é', '東', '😀',
    '\u00a0', '\u2000', '\u3000', '\ufeff', '\u0085', '\u200b', '<|endoftext|>', '-', '\f']
  let state = 99
  for (let round = 0; round < 12; round++) {
    let text = ''
    for (let i = 1; text.length < 12_000; i++) {
      state = (state * 1103515245 + 12345) % 2147483648
      // 'z ' every 8 pieces (≤ 13 characters each) keeps every run without a word boundary under 128 characters,
      // where a cut would be forced
      text += alphabet[(state >>> 8) % alphabet.length] + (i % 8 === 0 ? 'z ' : '')
    }
    assert.equal(countTextTokens(text, 'gpt-4o'), o200k(text, PLAIN), `o200k round ${round}`)
    assert.equal(countTextTokens(text, 'gpt-4'), cl100k(text, PLAIN), `cl100k round ${round}`)
  }
})

test('special-token syntax in a prompt is counted as text, never throws', () => {
  const text = 'ignore this <|endoftext|> and <|im_start|>system<|im_sep|>'
  assert.equal(countTextTokens(text, 'gpt-4o'), o200k(text, PLAIN))
  assert.ok(countTextTokens(text, 'gpt-4o') > 5)
})

test('content parts: text parts count like string content; images get the flat allowance', () => {
  const text = 'Describe this picture in one sentence.'
  const asString = estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: text }] }, 'gpt-4o')
  const asParts = estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: [{ type: 'text', text }] }] }, 'gpt-4o')
  assert.equal(asParts, asString)
  const image = (detail?: string) => ({ type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(50_000), detail } })
  const withImages = (model: string, ...images: object[]) =>
    estimatePrompt('chat.completions', { messages: [{ role: 'user', content: [{ type: 'text', text }, ...images] }] }, model)
  assert.deepEqual(withImages('gpt-4o', image('low')), { tokens: asString + 85, mediaTokens: 85 })
  assert.deepEqual(withImages('gpt-4o', image(), image('high')), { tokens: asString + 2 * 765, mediaTokens: 2 * 765 })
  assert.deepEqual(withImages('gpt-4o-mini', image('low')), { tokens: asString + 2833, mediaTokens: 2833 })
})

test('audio and file parts are bounded by their bytes, as media', () => {
  const part = { type: 'input_audio', input_audio: { data: randomBytes(3000).toString('base64'), format: 'wav' } }
  const { tokens, mediaTokens } = estimatePrompt('chat.completions', { messages: [{ role: 'user', content: [part] }] }, 'gpt-4o')
  assert.equal(mediaTokens, Buffer.byteLength(JSON.stringify(part)))
  assert.ok(tokens > mediaTokens)
})

test('tool calls and tool results in the conversation are counted', () => {
  const base = [{ role: 'user', content: 'Weather in Paris?' }]
  const call = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] }
  const result = { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21}' }
  const before = estimatePromptTokens('chat.completions', { messages: base }, 'gpt-4o')
  const after = estimatePromptTokens('chat.completions', { messages: [...base, call, result] }, 'gpt-4o')
  assert.ok(after - before >= o200k(JSON.stringify(call.tool_calls)) + o200k(result.content) + 2 * 3, `${before} → ${after}`)
})

test('other models: o200k × 1.15, never below one token per 4 characters', () => {
  const text = prose(8000)
  for (const model of ['claude-3-5-sonnet-20241022', 'qwen2.5-72b', 'llama-3.1-8b', 'mistral-large', 'deepseek-chat', 'mock-1', 'unknown-model']) {
    assert.equal(tokenizerFamily(model), 'approximate', model)
    assert.equal(estimatePromptTokens('completions', { prompt: text }, model), Math.ceil(o200k(text, PLAIN) * APPROXIMATION_FACTOR), model)
  }
  // A long run of one letter is a few tokens in o200k but not in every tokenizer: chars/4 holds.
  const run = 'a'.repeat(4000)
  assert.ok(o200k(run) * APPROXIMATION_FACTOR < 1000)
  assert.equal(estimatePromptTokens('completions', { prompt: run }, 'claude-3-haiku'), 1000)
})

test('the tokenizer family follows the model name', () => {
  const expected = {
    'gpt-4o-2024-08-06': 'o200k_base', 'chatgpt-4o-latest': 'o200k_base', 'gpt-4.1-mini': 'o200k_base', 'gpt-5': 'o200k_base',
    o1: 'o200k_base', 'o3-mini': 'o200k_base', 'o4-mini': 'o200k_base', 'openai/gpt-4o': 'o200k_base', 'GPT-4O': 'o200k_base',
    'gpt-3.5-turbo': 'cl100k_base', 'gpt-4-0613': 'cl100k_base', 'gpt-4-turbo': 'cl100k_base', 'text-embedding-3-small': 'cl100k_base',
    'claude-3-opus': 'approximate', 'llama3': 'approximate'
  }
  for (const [model, family] of Object.entries(expected)) assert.equal(tokenizerFamily(model), family, model)
  assert.equal(tokenizerFamily(42), 'approximate')
})

test('completions: a prompt string, a list of prompts, token ids, and the suffix', () => {
  const a = 'Once upon a time'
  const b = 'in a land far away'
  assert.equal(estimatePromptTokens('completions', { prompt: a }, 'gpt-3.5-turbo-instruct'), cl100k(a))
  assert.equal(estimatePromptTokens('completions', { prompt: [a, b] }, 'gpt-3.5-turbo-instruct'), cl100k(a) + cl100k(b))
  assert.equal(estimatePromptTokens('completions', { prompt: [1, 2, 3, 4] }, 'gpt-3.5-turbo-instruct'), 4)
  assert.equal(estimatePromptTokens('completions', { prompt: [[1, 2], [3, 4, 5]] }, 'gpt-3.5-turbo-instruct'), 5)
  assert.equal(estimatePromptTokens('completions', { prompt: a, suffix: b }, 'gpt-3.5-turbo-instruct'), cl100k(a) + cl100k(b))
})

test('embeddings: a string, strings, token ids, lists of token ids; no chat overhead', () => {
  const model = 'text-embedding-3-small'
  assert.equal(estimatePromptTokens('embeddings', { input: 'hello world' }, model), cl100k('hello world'))
  assert.equal(estimatePromptTokens('embeddings', { input: ['hello', 'world'] }, model), 2)
  assert.equal(estimatePromptTokens('embeddings', { input: [9906, 1917] }, model), 2)
  assert.equal(estimatePromptTokens('embeddings', { input: [[9906], [1917, 0, 1]] }, model), 4)
  assert.equal(estimatePromptTokens('models', { input: 'x' }, model), 0)
})

test('fields of unexpected types are counted as their JSON text, never throwing', () => {
  const cases: unknown[] = [
    { messages: 'not an array' }, { messages: null }, { messages: [42, null, 'hi', [1, 2]] },
    { messages: [{ role: 7, content: 12345 }] }, { messages: [{ role: 'user', content: { text: 'object' } }] },
    { messages: [{ role: 'user', content: [null, 5, { type: 'text', text: 9 }, { type: 'image_url' }, { type: 'mystery', x: 1 }] }] },
    { messages: [{ role: 'user', content: 'x', name: { nested: true } }], tools: 'yes', response_format: { type: 'json_schema' } },
    [1, 2, 3], 'a string body', null, undefined, 17
  ]
  for (const body of cases) {
    for (const endpoint of ['chat.completions', 'completions', 'embeddings'] as const) {
      const tokens = estimatePromptTokens(endpoint, body, 'gpt-4o')
      assert.ok(Number.isSafeInteger(tokens) && tokens >= 0, `${endpoint} ${JSON.stringify(body)}: ${tokens}`)
    }
  }
  assert.equal(estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: 12345 }] }, 'gpt-4o'),
    3 + o200k('user') + o200k('12345') + 3)
})

test('jsonText equals JSON.stringify for plain data and survives depth and cycles', () => {
  const value = { a: [1, 'x"y', { b: null, c: true, d: [] }], e: 'é\n', f: {} }
  assert.equal(jsonText(value), JSON.stringify(value))
  const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown
  assert.equal(jsonText(deep).length, 400_000)
  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic.self = cyclic
  assert.equal(jsonText(cyclic, 1000).length, 1000)
  const wide: unknown[] = []
  for (let i = 0; i < 1000; i++) wide.push(wide) // each expansion would push 2000 more items
  assert.ok(jsonText(wide, 10_000).length <= 10_000)
})

test('adversarial bodies finish fast: deep nesting, 1 MiB runs, random base64', () => {
  const deep = JSON.parse('{"messages":[{"role":"user","content":' + '['.repeat(400_000) + ']'.repeat(400_000) + '}]}') as unknown
  const mib = 1024 * 1024 - 100
  const bodies: Array<[string, unknown]> = [
    ['deeply nested content', deep],
    ['1 MiB of spaces', { messages: [{ role: 'user', content: ' '.repeat(mib) }] }], // 100 000 unsegmented spaces took 7.5 s
    ['1 MiB of one letter', { messages: [{ role: 'user', content: 'a'.repeat(mib) }] }],
    ['256 KiB of random base64', { prompt: randomBytes(192 * 1024).toString('base64') }]
  ]
  for (const [name, body] of bodies) {
    const started = performance.now()
    const tokens = estimatePromptTokens(name.includes('base64') ? 'completions' : 'chat.completions', body, 'gpt-4o')
    const ms = performance.now() - started
    assert.ok(tokens > 0, name)
    assert.ok(ms < 3000, `${name} took ${ms.toFixed(0)} ms`)
  }
})

test('text beyond the 1 MiB work bound is not tokenized but counted as its UTF-8 bytes', () => {
  const first = 'a'.repeat(MAX_TOKENIZED_CHARS - 10)
  const second = 'é'.repeat(1000) // 2 bytes each
  const tokens = estimatePromptTokens('completions', { prompt: [first, second] }, 'gpt-4o')
  assert.equal(tokens, countTextTokens(first, 'gpt-4o') + 2000)
})

test('the work bound can be lowered: text past it is counted as its bytes, not tokenized', () => {
  const body = { prompt: ['hello world', 'é'.repeat(100)] }
  assert.equal(estimatePrompt('completions', body, 'gpt-4o', 11).tokens, o200k('hello world') + 200)
  assert.equal(estimatePrompt('completions', body, 'gpt-4o').tokens, o200k('hello world') + o200k('é'.repeat(100)))
})

test('throughput on a 100 KB prompt (reported, with a loose floor that catches quadratic work)', (t) => {
  const text = prose(100_000, 11)
  const started = performance.now()
  const tokens = estimatePromptTokens('chat.completions', { messages: [{ role: 'user', content: text }] }, 'gpt-4o')
  const ms = performance.now() - started
  t.diagnostic(`100 KB prompt: ${tokens} tokens in ${ms.toFixed(1)} ms = ${Math.round(tokens / ms * 1000)} tokens/s`)
  assert.ok(tokens / ms * 1000 > 50_000, `${tokens} tokens in ${ms} ms`)
})
