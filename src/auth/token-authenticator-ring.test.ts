import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { openSigningKeyManager } from '../oauth/signing-key-manager.ts'
import { createClientService } from '../oauth/client-service.ts'
import { issueAccessToken } from '../oauth/access-token.ts'
import { fastScrypt } from '../oauth/oauth-test-fixture.ts'
import { tempSqliteStore } from '../oauth/sqlite-store-fixture.ts'
import { createTokenAuthenticator } from './token-authenticator.ts'
import { defaultRoles } from './roles.ts'

const issuer = 'http://127.0.0.1:8080'

test('a token signed with a key this instance has not loaded (made by another instance) verifies after one ring reload', async (t) => {
  const { store } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const open = () => openSigningKeyManager({ store: store.signingKeys, masterKey, algorithm: 'EdDSA', maxTokenLifetimeSeconds: 3600 })
  const here = await open()
  const other = await open()
  // The other instance rotates; this one misses the broadcast.
  await other.rotate()
  assert.notEqual(other.ring.current().kid, here.ring.current().kid)
  const clients = createClientService({ store: store.clients, roles: defaultRoles, maxGraceSeconds: 0, scryptParams: fastScrypt })
  const { client } = await clients.create({ name: 'svc', scopes: ['chat'] })
  const token = (await issueAccessToken(other.ring, { issuer, audience: issuer, subject: client.id, clientId: client.id, scope: ['chat'], tenant: null })).token

  let reloads = 0
  const authenticator = (reload: boolean) => createTokenAuthenticator({
    own: { issuer, audience: issuer, ring: () => here.ring, clients, ...(reload ? { reloadRing: async () => { reloads++; await here.reload() } } : {}) },
    external: [],
    roles: defaultRoles,
    clockSkewSeconds: 60,
    maxTokenBytes: 8192,
    isRevoked: () => false
  })
  const without = authenticator(false)
  t.after(() => without.close())
  await assert.rejects(async () => await without.verify(token), (err: Error & { code?: string }) => err.code === 'invalid_token')

  const withReload = authenticator(true)
  t.after(() => withReload.close())
  const principal = await withReload.verify(token)
  assert.equal(principal.clientId, client.id)
  assert.equal(reloads, 1)

  // An unknown kid cannot make every request reload the ring: at most once a second.
  const forged = token.replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'unknown' })).toString('base64url'))
  for (let i = 0; i < 5; i++) await assert.rejects(async () => await withReload.verify(forged))
  assert.ok(reloads <= 2, `the ring was reloaded ${reloads} times`)
})
