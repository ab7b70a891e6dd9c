import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryTokenDenyList } from './memory-token-deny-list.ts'

test('a revoked jti is denied until its expiry, then forgotten', async () => {
  let now = 1_000
  const list = createMemoryTokenDenyList({ now: () => now })
  await list.revoke('a', 5_000)
  assert.equal(await list.isRevoked('a'), true)
  assert.equal(await list.isRevoked('b'), false)
  assert.equal(list.isRevokedSync('a'), true)
  assert.equal(list.isRevokedSync('b'), false)
  now = 5_000
  assert.equal(list.isRevokedSync('a'), false)
  assert.equal(list.size(), 0)
  await list.revoke('late', 4_000)
  assert.equal(list.size(), 0, 'an already expired token is not stored')
})

test('revoking twice keeps the later expiry', async () => {
  let now = 0
  const list = createMemoryTokenDenyList({ now: () => now })
  await list.revoke('a', 9_000)
  await list.revoke('a', 2_000)
  now = 5_000
  assert.equal(await list.isRevoked('a'), true)
})

test('expired entries are swept as the map grows, so memory follows live tokens only', async () => {
  let now = 0
  const list = createMemoryTokenDenyList({ now: () => now })
  for (let i = 0; i < 1000; i++) await list.revoke(`old-${i}`, 100)
  now = 200
  for (let i = 0; i < 1000; i++) await list.revoke(`new-${i}`, 10_000)
  assert.ok(list.size() < 1100, `size ${list.size()}`)
  assert.equal(await list.isRevoked('new-999'), true)
  assert.equal(await list.isRevoked('old-0'), false)
})
