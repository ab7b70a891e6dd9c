import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redactCredentialShapes } from './credential-shapes.ts'

test('credential shapes in caller text are redacted; ordinary text is left alone', () => {
  const key = 'pcl_' + 'a1B2c3D4e5F6g7H8' + '_' + 'x'.repeat(43) + 'Ab12Cd'
  assert.equal(redactCredentialShapes(`curl/8 ${key}`), 'curl/8 [redacted]')
  assert.equal(redactCredentialShapes(`note ${key.slice(0, 45)}…`), 'note [redacted]…')
  assert.equal(redactCredentialShapes('pcs_' + 'A-_'.repeat(14) + 'z'), '[redacted]')
  assert.equal(redactCredentialShapes('t=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln x'), 't=[redacted] x')
  assert.equal(redactCredentialShapes('Authorization: Bearer abcdefgh12345'), 'Authorization: [redacted]')
  assert.equal(redactCredentialShapes('sk-proj-0123456789abcdefghijKLMN and gsk_0123456789abcdefghijKLMN'), '[redacted] and [redacted]')
  for (const plain of ['openai-python/1.40.0', 'mock-gpt', 'gpt-4o-mini', 'task-risk-review', 'Mozilla/5.0 (X11; Linux x86_64)']) {
    assert.equal(redactCredentialShapes(plain), plain)
  }
})

test('a long hostile input is scanned in linear time', () => {
  const started = performance.now()
  redactCredentialShapes('eyJ' + 'a'.repeat(200_000) + '.' + 'Bearer '.repeat(20_000))
  assert.ok(performance.now() - started < 500)
})
