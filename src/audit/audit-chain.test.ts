import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { deriveKey, keyLabels } from '../crypto/derive-key.ts'
import { createAuditChain, genesisMac } from './audit-chain.ts'
import { signCheckpoint, verifyCheckpoint } from './audit-checkpoint.ts'
import { auditKeyLabels, auditPublicKeyPem, deriveAuditKeys } from './audit-keys.ts'
import { canonicalJson } from './canonical-json.ts'

test('records get seq from 1, prev from the genesis, then the previous mac', () => {
  const key = createSecretKey(randomBytes(32))
  const chain = createAuditChain(key)
  const first = chain.seal({ action: 'login', actor: 'alice' })
  const second = chain.seal({ action: 'logout', actor: 'alice' })
  assert.equal(first.seq, 1)
  assert.equal(first.prev, genesisMac)
  assert.equal(second.seq, 2)
  assert.equal(second.prev, first.mac)
  assert.deepEqual(chain.head(), { seq: 2, mac: second.mac })
})

test('mac = HMAC-SHA256(key, prev ‖ canonical(record without mac)), hex', () => {
  const key = createSecretKey(randomBytes(32))
  const record = createAuditChain(key).seal({ b: 1, a: 'x' })
  const expected = createHmac('sha256', key)
    .update(genesisMac + canonicalJson({ a: 'x', b: 1, prev: genesisMac, seq: 1 }))
    .digest('hex')
  assert.equal(record.mac, expected)
  assert.notEqual(createAuditChain(createSecretKey(randomBytes(32))).seal({ b: 1, a: 'x' }).mac, record.mac)
})

test('a chain resumes from a head and refuses fields it sets itself', () => {
  const key = createSecretKey(randomBytes(32))
  const chain = createAuditChain(key, { seq: 41, mac: 'ab'.repeat(32) })
  assert.deepEqual([chain.seal({}).seq, chain.seal({}).prev.length], [42, 64])
  for (const name of ['seq', 'prev', 'mac']) assert.throws(() => chain.seal({ [name]: 1 }), /set by the chain/)
  assert.throws(() => chain.seal({ bad: NaN }), /finite/)
  assert.equal(chain.head().seq, 43)
})

test('audit keys are derived, distinct from other labels and sign verifiable checkpoints', () => {
  const master = randomBytes(32)
  const keys = deriveAuditKeys(master)
  assert.ok(deriveAuditKeys(master).macKey.equals(keys.macKey))
  assert.equal(auditPublicKeyPem(deriveAuditKeys(master)), auditPublicKeyPem(keys))
  assert.deepEqual(keys.macKey.export(), deriveKey(master, auditKeyLabels.mac))
  assert.notDeepEqual(keys.macKey.export(), deriveKey(master, keyLabels.apiKeyPepper))
  assert.notEqual(auditKeyLabels.mac, keyLabels.apiKeyPepper)
  const signed = signCheckpoint(keys.signingKey, { seq: 7, mac: 'cd'.repeat(32), time: '2025-01-01T00:00:00.000Z' })
  assert.ok(verifyCheckpoint(keys.publicKey, signed))
  assert.ok(!verifyCheckpoint(keys.publicKey, { ...signed, seq: 8 }))
  assert.ok(!verifyCheckpoint(deriveAuditKeys(randomBytes(32)).publicKey, signed))
  assert.match(auditPublicKeyPem(keys), /^-----BEGIN PUBLIC KEY-----/)
})
