import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { KeyRecord, Store } from './store.ts'
import { oauthContractTests } from './store-contract-oauth.ts'

/** Builds a fresh, empty store for one test; `dispose` runs after the test (close is tested separately). */
export type MakeStore = () => Promise<{ store: Store, dispose: () => Promise<void> }>

let counter = 0

/** A complete record with unique id and hash; override any field. */
export function sampleKey (overrides: Partial<KeyRecord> = {}): KeyRecord {
  counter++
  return {
    id: 'key_' + randomBytes(8).toString('hex'),
    name: `key ${counter}`,
    tenant: null,
    scopes: ['chat'],
    roles: [],
    models: null,
    allowedIps: null,
    secretHash: randomBytes(32).toString('hex'),
    lastFour: 'ab12',
    previousSecretHash: null,
    previousExpiresAt: null,
    metadata: null,
    createdAt: 1_700_000_000_000 + counter,
    createdBy: null,
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
    rotatedAt: null,
    ...overrides
  }
}

/** Wraps a test body with a fresh store that is disposed afterwards. */
export type WithStore = (fn: (store: Store) => Promise<void>) => () => Promise<void>

export function withStoreFrom (makeStore: MakeStore): WithStore {
  return (fn) => async () => {
    const { store, dispose } = await makeStore()
    try {
      await fn(store)
    } finally {
      await dispose()
    }
  }
}

/** The one contract every Store adapter must pass. */
export function runStoreContract (name: string, makeStore: MakeStore): void {
  const withStore = withStoreFrom(makeStore)

  describe(`store contract: ${name}`, () => {
    test('ping resolves on an open store; close is idempotent and ping then rejects', async () => {
      const { store, dispose } = await makeStore()
      try {
        await store.ping()
        await store.close()
        await store.close()
        await assert.rejects(store.ping())
      } finally {
        await dispose()
      }
    })

    recordTests(withStore)
    listTests(withStore)
    changeTests(withStore)
    oauthContractTests(withStore)
  })
}

function recordTests (withStore: WithStore): void {
  test('insert then get returns every field as written', withStore(async (store) => {
    const full = sampleKey({
      tenant: 'acme', scopes: ['chat', 'embeddings'], roles: ['reader', 'ops'], models: ['gpt-4o-mini', 'qwen2.5-*'],
      allowedIps: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'],
      metadata: { team: 'ml', nested: { n: 1, ok: true }, list: [1, 'two'] }, createdBy: 'key_creator',
      expiresAt: 1_800_000_000_000, lastUsedAt: 1_700_000_000_500, previousSecretHash: 'ff'.repeat(32),
      previousExpiresAt: 1_700_000_001_000, rotatedAt: 1_700_000_000_900, revokedAt: 1_700_000_002_000
    })
    const bare = sampleKey()
    await store.keys.insert(full)
    await store.keys.insert(bare)
    assert.deepEqual(await store.keys.get(full.id), full)
    assert.deepEqual(await store.keys.get(bare.id), bare)
  }))

  test('an empty models or allowedIps list stays empty and is not read back as null (unrestricted)', withStore(async (store) => {
    const empty = sampleKey({ models: [], allowedIps: [], roles: [] })
    const open = sampleKey({ models: null, allowedIps: null, roles: ['admin'] })
    await store.keys.insert(empty)
    await store.keys.insert(open)
    const gotEmpty = await store.keys.get(empty.id)
    assert.deepEqual(gotEmpty?.models, [])
    assert.deepEqual(gotEmpty?.allowedIps, [])
    assert.deepEqual(gotEmpty?.roles, [])
    const gotOpen = await store.keys.get(open.id)
    assert.equal(gotOpen?.models, null)
    assert.equal(gotOpen?.allowedIps, null)
    assert.deepEqual(gotOpen?.roles, ['admin'])
    assert.deepEqual((await store.keys.list({ limit: 10 })).items, [open, empty])
  }))

  test('insert rejects a duplicate id; get of an unknown id is null', withStore(async (store) => {
    const key = sampleKey()
    await store.keys.insert(key)
    await assert.rejects(store.keys.insert({ ...key, secretHash: 'aa'.repeat(32) }))
    assert.equal(await store.keys.get('key_unknown'), null)
    assert.equal((await store.keys.get(key.id))?.secretHash, key.secretHash)
  }))
}

function listTests (withStore: WithStore): void {
  test('list pages newest first with limit, after and has_more', withStore(async (store) => {
    const keys = [1, 2, 3, 4, 5].map((i) => sampleKey({ createdAt: 1000 + i }))
    for (const k of keys) await store.keys.insert(k)
    const newestFirst = [...keys].reverse().map((k) => k.id)
    const page1 = await store.keys.list({ limit: 2 })
    assert.deepEqual(page1.items.map((k) => k.id), newestFirst.slice(0, 2))
    assert.equal(page1.hasMore, true)
    const page2 = await store.keys.list({ limit: 2, after: page1.items[1]?.id })
    assert.deepEqual(page2.items.map((k) => k.id), newestFirst.slice(2, 4))
    assert.equal(page2.hasMore, true)
    const page3 = await store.keys.list({ limit: 2, after: page2.items[1]?.id })
    assert.deepEqual(page3.items.map((k) => k.id), newestFirst.slice(4))
    assert.equal(page3.hasMore, false)
    const all = await store.keys.list({ limit: 5 })
    assert.equal(all.items.length, 5)
    assert.equal(all.hasMore, false)
  }))

  test('list breaks created_at ties by id so paging never skips or repeats', withStore(async (store) => {
    const keys = [0, 1, 2, 3].map(() => sampleKey({ createdAt: 5000 }))
    for (const k of keys) await store.keys.insert(k)
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await store.keys.list({ limit: 1, after })
      seen.push(...page.items.map((k) => k.id))
      if (!page.hasMore) break
      after = page.items[0]?.id
    }
    assert.deepEqual(seen, keys.map((k) => k.id).sort().reverse())
  }))

  test('list filters by tenant; an unknown cursor gives an empty page', withStore(async (store) => {
    const a1 = sampleKey({ tenant: 'a' })
    const b1 = sampleKey({ tenant: 'b' })
    const a2 = sampleKey({ tenant: 'a' })
    const none = sampleKey()
    for (const k of [a1, b1, a2, none]) await store.keys.insert(k)
    assert.deepEqual((await store.keys.list({ limit: 10, tenant: 'a' })).items.map((k) => k.id), [a2.id, a1.id])
    assert.deepEqual((await store.keys.list({ limit: 10, tenant: 'b' })).items.map((k) => k.id), [b1.id])
    assert.equal((await store.keys.list({ limit: 10, tenant: 'zzz' })).items.length, 0)
    assert.equal((await store.keys.list({ limit: 10 })).items.length, 4)
    assert.deepEqual(await store.keys.list({ limit: 10, after: 'key_nope' }), { items: [], hasMore: false })
  }))
}

function changeTests (withStore: WithStore): void {
  test('revoke sets revoked_at once and keeps the first time; unknown id is null', withStore(async (store) => {
    const key = sampleKey()
    await store.keys.insert(key)
    assert.equal((await store.keys.revoke(key.id, 111))?.revokedAt, 111)
    assert.equal((await store.keys.revoke(key.id, 222))?.revokedAt, 111)
    assert.equal((await store.keys.get(key.id))?.revokedAt, 111)
    assert.equal(await store.keys.revoke('key_unknown', 1), null)
  }))

  test('rotate moves the current hash to previous and stores the new one; unknown id is null', withStore(async (store) => {
    const key = sampleKey()
    await store.keys.insert(key)
    const next = randomBytes(32).toString('hex')
    const rotated = await store.keys.rotate(key.id, { secretHash: next, lastFour: 'zz99', previousExpiresAt: 9000, rotatedAt: 8000 })
    assert.deepEqual(rotated, { ...key, secretHash: next, lastFour: 'zz99', previousSecretHash: key.secretHash, previousExpiresAt: 9000, rotatedAt: 8000 })
    assert.deepEqual(await store.keys.get(key.id), rotated)
    const third = randomBytes(32).toString('hex')
    const again = await store.keys.rotate(key.id, { secretHash: third, lastFour: 'yy88', previousExpiresAt: 9500, rotatedAt: 9100 })
    assert.equal(again?.previousSecretHash, next)
    assert.equal(await store.keys.rotate('key_unknown', { secretHash: next, lastFour: 'x', previousExpiresAt: 1, rotatedAt: 1 }), null)
  }))

  test('touchLastUsed applies a batch, keeps the later time, ignores unknown ids', withStore(async (store) => {
    const a = sampleKey()
    const b = sampleKey({ lastUsedAt: 5000 })
    await store.keys.insert(a)
    await store.keys.insert(b)
    await store.keys.touchLastUsed([])
    await store.keys.touchLastUsed([{ id: a.id, at: 3000 }, { id: b.id, at: 4000 }, { id: 'key_unknown', at: 1 }])
    assert.equal((await store.keys.get(a.id))?.lastUsedAt, 3000)
    assert.equal((await store.keys.get(b.id))?.lastUsedAt, 5000)
    await store.keys.touchLastUsed([{ id: a.id, at: 6000 }])
    assert.equal((await store.keys.get(a.id))?.lastUsedAt, 6000)
  }))

  test('countActiveWithScope counts exact scopes on live keys only', withStore(async (store) => {
    const now = 10_000
    await store.keys.insert(sampleKey({ scopes: ['admin'] }))
    await store.keys.insert(sampleKey({ scopes: ['chat', 'admin'], expiresAt: now + 1 }))
    await store.keys.insert(sampleKey({ scopes: ['admin:keys'] }))
    await store.keys.insert(sampleKey({ scopes: ['admin'], revokedAt: 1 }))
    await store.keys.insert(sampleKey({ scopes: ['admin'], expiresAt: now }))
    await store.keys.insert(sampleKey({ scopes: ['chat'] }))
    assert.equal(await store.keys.countActiveWithScope('admin', now), 2)
    assert.equal(await store.keys.countActiveWithScope('admin:keys', now), 1)
    assert.equal(await store.keys.countActiveWithScope('chat', now), 2)
    assert.equal(await store.keys.countActiveWithScope('embeddings', now), 0)
    assert.equal(await store.keys.countActiveWithScope('%', now), 0)
  }))
}
