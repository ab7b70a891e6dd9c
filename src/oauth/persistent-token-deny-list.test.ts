import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { openPersistentTokenDenyList } from './persistent-token-deny-list.ts'
import { tempSqliteStore } from './sqlite-store-fixture.ts'
import type { RevokedToken, RevokedTokenStore } from '../store/store.ts'

test('a revocation is written through, answered from memory, and survives a restart', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const clock = { now: 1_000_000 }
  const list = await openPersistentTokenDenyList({ store: store.revokedTokens, now: () => clock.now })
  t.after(() => { list.close() })
  await list.revoke('jti-a', clock.now + 60_000)
  assert.equal(list.isRevokedSync('jti-a'), true)
  assert.equal(await list.isRevoked('jti-a'), true)
  assert.equal(list.isRevokedSync('jti-b'), false)
  assert.deepEqual((await store.revokedTokens.listActive(clock.now)).map((r) => [r.jti, r.expiresAt, r.revokedAt]),
    [['jti-a', clock.now + 60_000, clock.now]])

  const restarted = await openPersistentTokenDenyList({ store: (await reopen()).revokedTokens, now: () => clock.now })
  t.after(() => { restarted.close() })
  assert.equal(restarted.isRevokedSync('jti-a'), true)
  clock.now += 60_000
  assert.equal(restarted.isRevokedSync('jti-a'), false, 'forgotten once the token has expired anyway')

  // An already expired token needs no row.
  await list.revoke('jti-old', clock.now - 1)
  assert.equal((await store.revokedTokens.listActive(0)).some((r) => r.jti === 'jti-old'), false)
})

test('reload() picks up revocations made through another instance', async (t) => {
  const { store, reopen } = await tempSqliteStore(t)
  const a = await openPersistentTokenDenyList({ store: store.revokedTokens })
  const b = await openPersistentTokenDenyList({ store: (await reopen()).revokedTokens })
  t.after(() => { a.close(); b.close() })
  await a.revoke('jti-x', Date.now() + 60_000)
  assert.equal(b.isRevokedSync('jti-x'), false)
  await b.reload()
  assert.equal(b.isRevokedSync('jti-x'), true)
})

test('expired rows are purged from the store by the unref\'d timer; close() stops it', async (t) => {
  const { store } = await tempSqliteStore(t)
  const clock = { now: 1_000_000 }
  const list = await openPersistentTokenDenyList({ store: store.revokedTokens, now: () => clock.now, purgeIntervalMs: 5 })
  await list.revoke('short', clock.now + 1_000)
  await list.revoke('long', clock.now + 10_000)
  clock.now += 5_000
  await sleep(30)
  assert.deepEqual((await store.revokedTokens.listActive(0)).map((r) => r.jti), ['long'])
  list.close()
  list.close()
  clock.now += 10_000
  await sleep(30)
  assert.deepEqual((await store.revokedTokens.listActive(0)).map((r) => r.jti), ['long'], 'no purge after close()')
})

test('a failed write reaches the caller, the token is still refused here, and a failed purge is reported', async (t) => {
  const failing: RevokedTokenStore = {
    insert: async (_token: RevokedToken) => { throw new Error('database is down') },
    listActive: async () => [],
    purgeExpired: async () => { throw new Error('database is down') }
  }
  const errors: unknown[] = []
  const list = await openPersistentTokenDenyList({ store: failing, purgeIntervalMs: 5, onPurgeError: (err) => { errors.push(err) } })
  t.after(() => { list.close() })
  await assert.rejects(list.revoke('jti-a', Date.now() + 60_000), /database is down/)
  assert.equal(list.isRevokedSync('jti-a'), true)
  await sleep(30)
  assert.ok(errors.length >= 1)
})
