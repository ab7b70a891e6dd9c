import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addStreamedEvent, newStreamedOutput, streamedOutputTokens } from './streamed-output.ts'

const chunk = (content: string): string => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })

test('streamed text is billed at 3 characters per token, the JSON envelope not counted', () => {
  const out = newStreamedOutput()
  // The opening chunk carries the role and no text: it does not set the envelope.
  addStreamedEvent(out, JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }))
  for (const word of ['Hello', ' there', ', how', ' are', ' you', '?']) addStreamedEvent(out, chunk(word))
  addStreamedEvent(out, '[DONE]')
  const text = 'Hello there, how are you?'
  assert.equal(out.events, 6)
  assert.equal(streamedOutputTokens(out), Math.ceil(text.length / 3))
  // Never fewer than a real tokenizer would count for ordinary text (7 tokens in o200k_base).
  assert.ok(streamedOutputTokens(out) >= 7)
})

test('completions text, escapes, empty and malformed streams', () => {
  const out = newStreamedOutput()
  addStreamedEvent(out, JSON.stringify({ choices: [{ index: 0, text: 'line one\n"quoted"' }] }))
  addStreamedEvent(out, JSON.stringify({ choices: [{ index: 0, text: 'line one\n"quoted"' }] }))
  assert.equal(streamedOutputTokens(out), Math.ceil((2 * JSON.stringify('line one\n"quoted"').length - 4) / 3))
  assert.equal(streamedOutputTokens(newStreamedOutput()), 0)
  const junk = newStreamedOutput()
  addStreamedEvent(junk, 'not json')
  assert.equal(streamedOutputTokens(junk), Math.ceil('not json'.length / 3))
})
