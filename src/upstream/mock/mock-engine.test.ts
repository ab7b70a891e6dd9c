import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countMockTokens, planMockResponse, type MockSettings } from './mock-engine.ts'
import { parseMockDirectives, stripMockDirectives } from './mock-directives.ts'
import { chunkSerializer, type MockStream } from './mock-replies.ts'
import { chatBody } from '../upstream-test-fixture.ts'

/** The chunks as a client sees them, checking the fast serializer gives JSON.stringify's bytes. */
function chunksOf (stream: MockStream | null): unknown[] {
  if (stream === null) throw new Error('expected a stream')
  const serialize = chunkSerializer(stream.head)
  return stream.parts.map((part) => {
    const chunk = { ...stream.head, ...part }
    assert.equal(serialize(part), JSON.stringify(chunk))
    return chunk
  })
}

const settings: MockSettings = { latencyMs: 0, chunkIntervalMs: 0, failureRate: 0 }

interface ChatBody { id: string, object: string, system_fingerprint: string, choices: Array<{ message: { content: string }, finish_reason: string }>, usage: { prompt_tokens: number, completion_tokens: number, total_tokens: number } }
interface Chunk { choices: Array<{ delta: { role?: string, content?: string }, finish_reason: string | null }>, usage?: { completion_tokens: number } }

test('a chat answer is deterministic, echoes the last user message and counts its tokens', () => {
  const body = { model: 'mock-gpt', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'My card is 4111 1111 1111 1111' }] }
  const first = planMockResponse('chat.completions', body, settings).body as ChatBody
  const second = planMockResponse('chat.completions', body, settings).body as ChatBody
  const text = first.choices[0]?.message.content ?? ''
  assert.equal(text, second.choices[0]?.message.content)
  assert.ok(text.endsWith('You said: My card is 4111 1111 1111 1111'))
  assert.match(first.id, /^chatcmpl-mock-/)
  assert.equal(first.object, 'chat.completion')
  assert.equal(first.system_fingerprint, 'portcullis-mock')
  assert.deepEqual(first.usage, { prompt_tokens: 2 + 7, completion_tokens: countMockTokens(text), total_tokens: 9 + countMockTokens(text) })
})

test('max_tokens bounds the reply and sets finish_reason "length"; #mock:tokens sets its length', () => {
  const capped = planMockResponse('chat.completions', chatBody('a long prompt here', { max_tokens: 3 }), settings).body as ChatBody
  assert.equal(countMockTokens(capped.choices[0]?.message.content ?? ''), 3)
  assert.equal(capped.choices[0]?.finish_reason, 'length')
  const sized = planMockResponse('chat.completions', chatBody('#mock:tokens=40 hi'), settings).body as ChatBody
  assert.equal(sized.usage.completion_tokens, 40)
  assert.equal(countMockTokens(sized.choices[0]?.message.content ?? ''), 40)
  assert.equal(sized.choices[0]?.finish_reason, 'stop')
})

test('a stream is framed like OpenAI: role chunk, one chunk per token, finish chunk, then the usage chunk only on request', () => {
  const plain = chunksOf(planMockResponse('chat.completions', chatBody('#mock:tokens=5', { stream: true }), settings).stream) as Chunk[]
  assert.equal(plain.length, 1 + 5 + 1)
  assert.deepEqual(plain[0]?.choices[0]?.delta.role, 'assistant')
  assert.equal(plain.at(-1)?.choices[0]?.finish_reason, 'stop')
  assert.ok(plain.every((c) => c.usage === undefined))
  const withUsage = chunksOf(planMockResponse('chat.completions', chatBody('#mock:tokens=5', { stream: true, stream_options: { include_usage: true } }), settings).stream) as Chunk[]
  assert.equal(withUsage.length, 8)
  assert.deepEqual(withUsage.at(-1)?.choices, [])
  assert.equal(withUsage.at(-1)?.usage?.completion_tokens, 5)
})

test('legacy completions echo the prompt and stream text chunks', () => {
  const plan = planMockResponse('completions', { model: 'mock-gpt', prompt: 'Say #mock:tokens=12 this', stream: true }, settings)
  const chunks = chunksOf(plan.stream) as Array<{ object: string, choices: Array<{ text: string }> }>
  assert.equal(chunks.length, 13)
  assert.equal(chunks[0]?.object, 'text_completion')
  assert.deepEqual(plan.usage, { inputTokens: 3, outputTokens: 12 })
})

test('embeddings are deterministic unit vectors that honour dimensions and base64', () => {
  const body = { model: 'mock-embedding', input: ['alpha', 'beta'], dimensions: 32 }
  const a = planMockResponse('embeddings', body, settings).body as { data: Array<{ embedding: number[] }>, usage: { prompt_tokens: number } }
  const b = planMockResponse('embeddings', body, settings).body as typeof a
  assert.deepEqual(a, b)
  assert.equal(a.data[0]?.embedding.length, 32)
  assert.notDeepEqual(a.data[0]?.embedding, a.data[1]?.embedding)
  const norm = Math.hypot(...(a.data[0]?.embedding ?? []))
  assert.ok(Math.abs(norm - 1) < 1e-5)
  const small = planMockResponse('embeddings', { model: 'm', input: 'alpha' }, settings).body as { data: Array<{ embedding: number[] }> }
  assert.equal(small.data[0]?.embedding.length, 16)
  const b64 = planMockResponse('embeddings', { model: 'm', input: 'alpha', encoding_format: 'base64' }, settings).body as { data: Array<{ embedding: string }> }
  const decoded = new Float32Array(new Uint8Array(Buffer.from(b64.data[0]?.embedding ?? '', 'base64')).buffer)
  assert.deepEqual(Array.from(decoded), small.data[0]?.embedding)
})

test('directives are parsed, bounded and stripped from the echo; status directives plan an error', () => {
  assert.deepEqual(parseMockDirectives('x #mock:status=503 #mock:latency=20 #mock:interval=5 #mock:error_after=2 #mock:stall #mock:tokens=9'),
    { status: 503, latencyMs: 20, intervalMs: 5, errorAfter: 2, stallAfter: 1, tokens: 9, chunkChars: null })
  assert.equal(parseMockDirectives('#mock:chunk_chars=3').chunkChars, 3)
  assert.equal(parseMockDirectives('#mock:status=200').status, null)
  assert.equal(parseMockDirectives('#mock:latency=999999999').latencyMs, 600_000)
  assert.equal(stripMockDirectives('  hello #mock:tokens=3 '), 'hello')
  const plan = planMockResponse('chat.completions', chatBody('#mock:status=429'), settings)
  assert.equal(plan.status, 429)
  assert.equal((plan.body as { error: { type: string } }).error.type, 'rate_limit_error')
})

test('failure_rate 1 fails every request; a malformed request is a 400 naming the field', () => {
  assert.equal(planMockResponse('chat.completions', chatBody('hi'), { ...settings, failureRate: 1 }).status, 500)
  const bad = planMockResponse('chat.completions', { model: 'mock-gpt' }, settings)
  assert.equal(bad.status, 400)
  assert.equal((bad.body as { error: { param: string } }).error.param, 'messages')
})

test('#mock:chunk_chars=N streams the reply N characters per chunk; usage still counts tokens', () => {
  const body = chatBody('abcdefghij klm #mock:chunk_chars=4', { stream: true, stream_options: { include_usage: true } })
  const chunks = chunksOf(planMockResponse('chat.completions', body, settings).stream) as Chunk[]
  const contents = chunks.slice(1, -2).map((c) => c.choices[0]?.delta.content)
  assert.ok(contents.every((c) => c?.length === 4 || c === contents.at(-1)))
  assert.equal(contents.join(''), 'This is a mock reply from Portcullis. You said: abcdefghij klm')
  assert.equal(chunks.at(-1)?.usage?.completion_tokens, 11)
})
