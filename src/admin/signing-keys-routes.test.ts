import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { startKeyService } from '../auth/key-service-fixture.ts'
import { openSigningKeyManager } from '../oauth/signing-key-manager.ts'
import { unwrapPrivateKey } from '../oauth/signing-keys.ts'
import { tempSqliteStore } from '../oauth/sqlite-store-fixture.ts'
import type { Store } from '../store/store.ts'
import { createAdminTestApp } from './admin-test-app.ts'
import { signingKeyRoutes } from './signing-keys-routes.ts'
import type { SigningKeyListJson } from './signing-keys-routes.ts'

interface Harness {
  readonly app: FastifyInstance
  readonly store: Store
  readonly masterKey: Buffer
  readonly clock: { now: number }
  /** `admin:config`, `admin:keys` and `admin` keys. */
  readonly config: string
  readonly keysOnly: string
  readonly admin: string
}

async function harness (t: TestContext): Promise<Harness> {
  const keys = await startKeyService(t)
  const { store } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const clock = { now: 1_700_000_000_000 }
  const manager = await openSigningKeyManager({ store: store.signingKeys, masterKey, algorithm: 'EdDSA', maxTokenLifetimeSeconds: 900, now: () => clock.now })
  const app = await createAdminTestApp(t, keys.service, [], signingKeyRoutes(manager))
  const key = async (scopes: string[]): Promise<string> => (await keys.service.create({ name: scopes.join(','), scopes })).secret
  return { app, store, masterKey, clock, config: await key(['admin:config']), keysOnly: await key(['admin:keys']), admin: await key(['admin']) }
}

async function call (h: Harness, method: 'GET' | 'POST', url: string, key: string | null, payload?: unknown) {
  const response = await h.app.inject({
    method, url: '/admin/v1' + url,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, text: response.body, headers: response.headers }
}

test('GET /signing-keys lists the current key; rotate makes a new one and keeps the old one retiring', async (t) => {
  const h = await harness(t)
  const listed = await call(h, 'GET', '/signing-keys', h.config)
  assert.equal(listed.status, 200, listed.text)
  assert.equal(listed.headers['cache-control'], 'no-store')
  const before = listed.body as unknown as SigningKeyListJson
  assert.equal(before.data.length, 1)
  const first = before.data[0]
  assert.deepEqual([first?.object, first?.alg, first?.status, first?.created_at, first?.retired_at, first?.retire_after],
    ['signing_key', 'EdDSA', 'current', 1_700_000_000, null, null])
  assert.deepEqual(Object.keys(first?.public_jwk ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x'])

  h.clock.now += 10_000
  const rotated = await call(h, 'POST', '/signing-keys/rotate', h.config, { algorithm: 'ES256' })
  assert.equal(rotated.status, 200, rotated.text)
  const after = rotated.body as unknown as SigningKeyListJson
  assert.deepEqual(after.data.map((k) => [k.alg, k.status, k.retired_at, k.retire_after]),
    [['ES256', 'current', null, null], ['EdDSA', 'retiring', 1_700_000_010, 1_700_000_010 + 900]])
  assert.equal(after.data[1]?.kid, first?.kid)

  // No body: the configured algorithm; the admin scope covers admin:config.
  h.clock.now += 1_000_000
  const again = await call(h, 'POST', '/signing-keys/rotate', h.admin)
  assert.equal(again.status, 200, again.text)
  assert.deepEqual((again.body as unknown as SigningKeyListJson).data.map((k) => [k.alg, k.status]), [['EdDSA', 'current'], ['ES256', 'retiring']])
})

test('rotate validates its body; only admin:config (or admin) may list or rotate', async (t) => {
  const h = await harness(t)
  const bad = await call(h, 'POST', '/signing-keys/rotate', h.config, { algorithm: 'HS256' })
  assert.equal(bad.status, 400)
  assert.deepEqual([(bad.body.error as Record<string, unknown>).code, (bad.body.error as Record<string, unknown>).param], ['invalid_request', 'algorithm'])
  const unknown = await call(h, 'POST', '/signing-keys/rotate', h.config, { alg: 'ES256' })
  assert.equal(unknown.status, 400)
  assert.equal((unknown.body.error as Record<string, unknown>).param, 'alg')
  assert.equal((await call(h, 'GET', '/signing-keys', h.keysOnly)).status, 403)
  assert.equal((await call(h, 'POST', '/signing-keys/rotate', h.keysOnly, {})).status, 403)
  assert.equal((await call(h, 'GET', '/signing-keys', null)).status, 401)
  assert.equal((await h.store.signingKeys.listPublished(h.clock.now)).length, 1, 'no refused call rotated')
})

test('no private key material in any answer: neither the wrapped private key nor d', async (t) => {
  const h = await harness(t)
  const texts = [
    (await call(h, 'POST', '/signing-keys/rotate', h.config, { algorithm: 'ES256' })).text,
    (await call(h, 'POST', '/signing-keys/rotate', h.config, {})).text,
    (await call(h, 'GET', '/signing-keys', h.config)).text
  ].join('\n')
  const stored = await h.store.signingKeys.listPublished(h.clock.now)
  assert.equal(stored.length, 3)
  for (const row of stored) {
    assert.ok(texts.includes(row.kid))
    assert.ok(!texts.includes(row.wrappedPrivateKey), 'the wrapped private key leaked')
    assert.ok(!texts.includes(String(unwrapPrivateKey(h.masterKey, row.kid, row.wrappedPrivateKey).d)), 'd leaked')
  }
  assert.doesNotMatch(texts, /"d"|wrapped|private/i)
})
