import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { deriveKey, keyLabels } from './derive-key.ts'

test('derivation is deterministic per (master, label) and distinct across labels and masters', () => {
  const master = randomBytes(32)
  const pepper = deriveKey(master, keyLabels.apiKeyPepper)
  assert.equal(pepper.length, 32)
  assert.deepEqual(deriveKey(master, keyLabels.apiKeyPepper), pepper)
  assert.notDeepEqual(deriveKey(master, 'portcullis/other/v1'), pepper)
  assert.notDeepEqual(deriveKey(randomBytes(32), keyLabels.apiKeyPepper), pepper)
  assert.notDeepEqual(pepper, master)
  assert.equal(deriveKey(master, 'x', 64).length, 64)
})

test('refuses a master key of the wrong length or an empty label', () => {
  assert.throws(() => deriveKey(randomBytes(16), keyLabels.apiKeyPepper), /32 bytes/)
  assert.throws(() => deriveKey(randomBytes(32), ''), /label/)
})
