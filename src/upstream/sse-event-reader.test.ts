import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readSseEvents, SseProtocolError, toSseEvent } from './sse-event-reader.ts'
import { collect } from './upstream-test-fixture.ts'
import type { SseEvent } from './provider.ts'

const STREAM = [
  ': keep-alive comment\r\n',
  'data: {"id":"a","choices":[{"delta":{"content":"héllo 🌍 — ok"}}]}\r\n\r\n',
  'event: ping\n',
  'data: line one\n',
  'data: line two\n\n',
  'id: 7\r',
  'data: {"usage":{"prompt_tokens":3}}\r\r',
  'data: [DONE]\n\n'
].join('')

const EXPECTED = [
  { event: null, data: '{"id":"a","choices":[{"delta":{"content":"héllo 🌍 — ok"}}]}', json: { id: 'a', choices: [{ delta: { content: 'héllo 🌍 — ok' } }] } },
  { event: 'ping', data: 'line one\nline two', json: undefined },
  { event: null, data: '{"usage":{"prompt_tokens":3}}', json: { usage: { prompt_tokens: 3 } } },
  { event: null, data: '[DONE]', json: undefined }
]

/** The fields a consumer reads (json is parsed on first access). */
function plain (events: SseEvent[]): SseEvent[] {
  return events.map((e) => ({ event: e.event, data: e.data, json: e.json }))
}

async function * chunks (parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

test('parses OpenAI chunks, named events, multi-line data, CR/LF/CRLF endings and [DONE]', async () => {
  const bytes = Buffer.from(STREAM, 'utf8')
  assert.deepEqual(plain(await collect(readSseEvents(chunks([bytes])))), EXPECTED)
})

test('gives the same events when the bytes are split at every boundary (multi-byte UTF-8 included)', async () => {
  const bytes = Buffer.from(STREAM, 'utf8')
  for (let cut = 1; cut < bytes.length; cut++) {
    const events = await collect(readSseEvents(chunks([bytes.subarray(0, cut), bytes.subarray(cut)])))
    assert.deepEqual(plain(events), EXPECTED, `split at byte ${cut}`)
  }
  const oneByOne = [...bytes].map((b) => Uint8Array.of(b))
  assert.deepEqual(plain(await collect(readSseEvents(chunks(oneByOne)))), EXPECTED)
})

test('drops an event the stream ends before terminating (WHATWG: no dispatch without a blank line)', async () => {
  const events = await collect(readSseEvents(chunks([Buffer.from('data: {"a":1}\n\ndata: {"b":2}\n')])))
  assert.deepEqual(events.map((e) => e.data), ['{"a":1}'])
})

test('refuses an unterminated line beyond the buffer limit instead of growing without bound', async () => {
  async function * endless (): AsyncGenerator<Uint8Array> {
    yield Buffer.from('data: ')
    const block = Buffer.alloc(1024 * 1024, 0x61)
    for (let i = 0; i < 16; i++) yield block
  }
  await assert.rejects(collect(readSseEvents(endless())), SseProtocolError)
})

test('returning early closes the source iterator', async () => {
  let closed = false
  async function * source (): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; ; i++) yield Buffer.from(`data: {"n":${i}}\n\n`)
    } finally {
      closed = true
    }
  }
  for await (const batch of readSseEvents(source())) {
    if ((batch[0]?.json as { n: number }).n === 2) break
  }
  assert.equal(closed, true)
})

test('toSseEvent leaves json undefined for non-JSON payloads', () => {
  assert.equal(toSseEvent('[DONE]').json, undefined)
  assert.equal(toSseEvent('{not json').json, undefined)
  assert.deepEqual(toSseEvent('[1,2]').json, [1, 2])
  assert.equal(toSseEvent('hello', 'message').event, 'message')
})
