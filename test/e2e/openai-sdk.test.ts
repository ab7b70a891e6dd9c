import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// The official SDK is the client; the built-in mock provider is the upstream.
let gw: TestGateway
let client: OpenAI

function sdk (apiKey: string): OpenAI {
  return new OpenAI({ baseURL: gw.url + '/v1', apiKey, maxRetries: 0 })
}

before(async () => {
  gw = await startTestGateway()
  client = sdk((await gw.createKey()).secret)
})
after(async () => { await gw.close() })

test('chat completion through the gateway, labelled as the mock', async () => {
  const reply = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello gateway' }] })
  assert.equal(reply.object, 'chat.completion')
  assert.equal(reply.system_fingerprint, 'portcullis-mock')
  const text = reply.choices[0]?.message.content ?? ''
  assert.ok(text.length > 0)
  assert.ok(reply.usage !== undefined && reply.usage.completion_tokens > 0 && reply.usage.prompt_tokens > 0)
})

test('streaming delivers every delta, and usage only when the client asks for it', async () => {
  const messages = [{ role: 'user' as const, content: 'Stream this please' }]
  const whole = await client.chat.completions.create({ model: 'mock-gpt', messages })
  const expected = whole.choices[0]?.message.content

  let text = ''
  let usageChunks = 0
  for await (const chunk of await client.chat.completions.create({ model: 'mock-gpt', messages, stream: true })) {
    text += chunk.choices[0]?.delta.content ?? ''
    if (chunk.usage != null) usageChunks++
  }
  assert.equal(text, expected)
  assert.equal(usageChunks, 0, 'the gateway asked upstream for usage but must not pass it to a client that did not ask')

  let usage: OpenAI.CompletionUsage | null | undefined = null
  text = ''
  const withUsage = await client.chat.completions.create({ model: 'mock-gpt', messages, stream: true, stream_options: { include_usage: true } })
  for await (const chunk of withUsage) {
    text += chunk.choices[0]?.delta.content ?? ''
    if (chunk.usage != null) usage = chunk.usage
  }
  assert.equal(text, expected)
  assert.deepEqual(usage, whole.usage)
})

test('legacy completions and embeddings', async () => {
  const completion = await client.completions.create({ model: 'mock-gpt', prompt: 'Say something' })
  assert.ok((completion.choices[0]?.text ?? '').length > 0)
  const embedding = await client.embeddings.create({ model: 'mock-embedding', input: ['one', 'two'] })
  assert.equal(embedding.data.length, 2)
  assert.ok((embedding.data[0]?.embedding.length ?? 0) > 0)
  const again = await client.embeddings.create({ model: 'mock-embedding', input: ['one', 'two'] })
  assert.deepEqual(again.data[0]?.embedding, embedding.data[0]?.embedding, 'the mock is deterministic')
})

test('models lists only what the key may use', async () => {
  const all = []
  for await (const m of client.models.list()) all.push(m.id)
  assert.ok(all.includes('mock-gpt') && all.includes('mock-embedding'))
  const narrow = sdk((await gw.createKey({ models: ['mock-embedding'] })).secret)
  const ids = []
  for await (const m of narrow.models.list()) ids.push(m.id)
  assert.deepEqual(ids, ['mock-embedding'])
})

test('unknown, revoked and expired keys are AuthenticationErrors with our codes', async () => {
  const unknown = sdk('pcl_' + 'A'.repeat(16) + '_' + 'B'.repeat(49))
  await assert.rejects(unknown.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key')

  const { id, secret } = await gw.createKey()
  const revoked = sdk(secret)
  await revoked.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] })
  assert.equal((await gw.admin('POST', `/admin/v1/keys/${id}/revoke`)).status, 200)
  await assert.rejects(revoked.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'revoked_credentials')

  const expiring = sdk((await gw.createKey({ expires_in: 1 })).secret)
  await expiring.models.list()
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await assert.rejects(expiring.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'expired_credentials')
})

test('a model outside the key\'s allowlist is a PermissionDeniedError', async () => {
  const narrow = sdk((await gw.createKey({ models: ['mock-embedding'] })).secret)
  await assert.rejects(narrow.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.PermissionDeniedError && err.code === 'model_not_allowed')
})

test('an unknown model is a NotFoundError', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found')
})

test('an error raised mid-stream reaches the SDK as an APIError after the first deltas', async () => {
  const stream = await client.chat.completions.create({
    model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'break please #mock:error_after=2' }]
  })
  let deltas = 0
  await assert.rejects((async () => {
    for await (const chunk of stream) if (chunk.choices.length > 0) deltas++
  })(), (err: unknown) => err instanceof OpenAI.APIError && typeof err.message === 'string')
  assert.ok(deltas >= 1, 'some deltas arrived before the error')
})
