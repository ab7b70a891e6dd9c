import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { once } from 'node:events'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { auditRecordOf, readAuditFiles } from '../helpers/audit-records.ts'

// An OpenAI-compatible upstream that remembers the headers of every request it got.
let upstream: Server
const seenHeaders: IncomingHttpHeaders[] = []
let gw: TestGateway
let key: { id: string, secret: string }

before(async () => {
  upstream = createServer((req, res) => {
    seenHeaders.push(req.headers)
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({
        id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'cap-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
      }))
    })
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const address = upstream.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  gw = await startTestGateway({
    config: {
      upstreams: [{ name: 'cap', type: 'openai', base_url: `http://127.0.0.1:${port}/v1` }],
      models: [{ name: 'cap-model', upstream: 'cap' }],
      audit: { metadata_max_bytes: 200 }
    }
  })
  key = await gw.createKey({ models: ['cap-model'] })
})
after(async () => {
  await gw.close()
  upstream.close()
})

async function chat (metadata: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number, requestId: string, body: { error?: { code: string, param: string | null, message: string } } }> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key.secret}`,
      'content-type': 'application/json',
      ...(metadata === undefined ? {} : { 'x-portcullis-metadata': metadata }),
      ...headers
    },
    body: JSON.stringify({ model: 'cap-model', messages: [{ role: 'user', content: 'hi' }] })
  })
  return { status: res.status, requestId: res.headers.get('x-request-id') ?? '', body: await res.json() as never }
}

test('valid metadata is recorded and never forwarded upstream', async () => {
  seenHeaders.length = 0
  const sent = await chat(JSON.stringify({ team: 'search', ticket: 42, billable: true }))
  assert.equal(sent.status, 200, JSON.stringify(sent.body))
  const r = await auditRecordOf(gw, sent.requestId)
  assert.deepEqual(r.metadata, { billable: true, team: 'search', ticket: 42 })
  assert.equal(r.upstream, 'cap')
  assert.equal(seenHeaders.length, 1)
  const forwarded = seenHeaders[0] as IncomingHttpHeaders
  assert.equal(forwarded['x-portcullis-metadata'], undefined)
  assert.ok(!JSON.stringify(forwarded).includes('search'), 'metadata reached the upstream')
  assert.ok(!JSON.stringify(forwarded).includes(key.secret), 'the caller\'s key reached the upstream')
})

const invalidCases: ReadonlyArray<[string, string, RegExp]> = [
  ['not JSON', '{team:', /JSON object/],
  ['an array', '["a"]', /JSON object/],
  ['a nested object', JSON.stringify({ team: { name: 'x' } }), /strings of at most 256/],
  ['a null value', JSON.stringify({ team: null }), /strings of at most 256/],
  ['too many keys', JSON.stringify(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))), /more than 16 keys/],
  ['a repeated key', '{"a":1,"a":2}', /repeats a key/],
  ['a key outside the label alphabet', '{"\\n":1}', /A-Z, a-z, 0-9/],
  ['an empty key', '{"":1}', /A-Z, a-z, 0-9/],
  ['oversized', JSON.stringify({ note: 'y'.repeat(250) }), /larger than 200 bytes/]
]

for (const [name, value, message] of invalidCases) {
  test(`metadata that is ${name} is refused with 400 naming the header, and still recorded`, async () => {
    seenHeaders.length = 0
    const sent = await chat(value)
    assert.equal(sent.status, 400)
    assert.equal(sent.body.error?.code, 'invalid_request')
    assert.equal(sent.body.error?.param, 'x-portcullis-metadata')
    assert.match(sent.body.error?.message ?? '', message)
    assert.equal(seenHeaders.length, 0, 'a refused request reached the upstream')
    const r = await auditRecordOf(gw, sent.requestId)
    assert.deepEqual([r.status, r.error, r.metadata, r.api_key_id], [400, 'invalid_request', null, key.id])
  })
}

test('a string value longer than 256 characters is refused even under the byte limit', async () => {
  const { parseRequestMetadata } = await import('../../src/audit/request-metadata.ts')
  assert.throws(() => parseRequestMetadata(JSON.stringify({ t: 'z'.repeat(257) }), 1024), /strings of at most 256/)
  assert.deepEqual(parseRequestMetadata(JSON.stringify({ t: 'z'.repeat(256) }), 1024), { t: 'z'.repeat(256) })
})

test('terminal escapes, newlines and lone surrogates from the client stay inside one escaped line', async () => {
  // JSON escapes in the header decode to the raw characters: ESC, newline, a lone surrogate.
  const metadata = '{"paint":"\\u001b[31mred\\u001b[0m","lines":"a\\nb\\r\\nc","half":"\\ud800x","nul":"\\u0000"}'
  const sent = await chat(metadata, { 'user-agent': 'agent\t' + 'u'.repeat(400) })
  assert.equal(sent.status, 200, JSON.stringify(sent.body))
  const r = await auditRecordOf(gw, sent.requestId)
  assert.deepEqual(r.metadata, { half: '\ud800x', lines: 'a\nb\r\nc', nul: '\u0000', paint: '\u001b[31mred\u001b[0m' })
  assert.equal((r.user_agent as string).length, 256)
  const { lines } = await readAuditFiles(gw.dataDir)
  const line = lines.find((l) => l.includes(sent.requestId)) as string
  assert.ok(!/[\u0000-\u001f\u007f]/.test(line), 'a control character reached the file unescaped')
  assert.ok(line.includes('\\u001b[31mred'), line)
  assert.ok(line.includes('\\ud800x'), line)
  assert.ok(line.includes('a\\nb\\r\\nc'), line)
})
