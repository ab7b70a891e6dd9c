import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createAdminTestApp } from '../admin/admin-test-app.ts'
import { signingKeyRoutes } from '../admin/signing-keys-routes.ts'
import { startKeyService } from '../auth/key-service-fixture.ts'
import { openSigningKeyManager } from '../oauth/signing-key-manager.ts'
import type { SigningKeyManager } from '../oauth/signing-key-manager.ts'
import { unwrapPrivateKey } from '../oauth/signing-keys.ts'
import { tempSqliteStore } from '../oauth/sqlite-store-fixture.ts'
import type { Store } from '../store/store.ts'
import { runCommand, listeningAdminEnv } from './run-command-fixture.ts'
import { signingKeysCommands, signingKeysListCommand, signingKeysRotateCommand } from './signing-keys-command.ts'

interface Gateway {
  readonly env: NodeJS.ProcessEnv
  readonly manager: SigningKeyManager
  readonly store: Store
  readonly masterKey: Buffer
  readonly keysOnly: string
}

async function gateway (t: TestContext): Promise<Gateway> {
  const keys = await startKeyService(t)
  const { store } = await tempSqliteStore(t)
  const masterKey = randomBytes(32)
  const manager = await openSigningKeyManager({ store: store.signingKeys, masterKey, algorithm: 'EdDSA', maxTokenLifetimeSeconds: 3600 })
  const app = await createAdminTestApp(t, keys.service, [], signingKeyRoutes(manager))
  const adminKey = (await keys.service.create({ name: 'cli', scopes: ['admin:config'] })).secret
  const keysOnly = (await keys.service.create({ name: 'keys', scopes: ['admin:keys'] })).secret
  return { env: await listeningAdminEnv(app, adminKey), manager, store, masterKey, keysOnly }
}

const run = runCommand

test('signing-keys list and rotate go through the admin API; the old key is shown retiring', async (t) => {
  const g = await gateway(t)
  const oldKid = g.manager.ring.current().kid
  const listed = await run(signingKeysListCommand, [], g.env)
  assert.equal(listed.code, 0, listed.err)
  assert.match(listed.out, /^KID\s+ALG\s+STATUS\s+CREATED\s+RETIRED\s+RETIRE AFTER\n/)
  assert.match(listed.out, new RegExp(`${oldKid}\\s+EdDSA\\s+current`))

  const rotated = await run(signingKeysRotateCommand, ['--algorithm', 'ES256'], g.env)
  assert.equal(rotated.code, 0, rotated.err)
  const newKid = g.manager.ring.current().kid
  assert.notEqual(newKid, oldKid)
  assert.match(rotated.out, new RegExp(`^Rotated: ${newKid} \\(ES256\\) signs new tokens\\.`))
  assert.match(rotated.out, new RegExp(`${oldKid} keeps verifying until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`))

  const json = await run(signingKeysListCommand, ['--json'], g.env)
  const keys = JSON.parse(json.out) as Array<{ kid: string, status: string }>
  assert.deepEqual(keys.map((k) => [k.kid, k.status]), [[newKid, 'current'], [oldKid, 'retiring']])
  for (const row of await g.store.signingKeys.listPublished(Date.now())) {
    for (const output of [listed.out, rotated.out, json.out]) {
      assert.ok(!output.includes(row.wrappedPrivateKey))
      assert.ok(!output.includes(String(unwrapPrivateKey(g.masterKey, row.kid, row.wrappedPrivateKey).d)))
    }
  }
})

test('usage errors exit 2 without calling the API; a key without admin:config exits 1 with a hint', async (t) => {
  const g = await gateway(t)
  const before = g.manager.ring.current().kid
  const bad = await run(signingKeysRotateCommand, ['--algorithm', 'HS256'], g.env)
  assert.equal(bad.code, 2)
  assert.match(bad.err, /--algorithm must be one of EdDSA, ES256/)
  assert.equal((await run(signingKeysListCommand, ['extra'], g.env)).code, 2)
  assert.equal(g.manager.ring.current().kid, before)
  const weak = await run(signingKeysRotateCommand, [], { ...g.env, PORTCULLIS_ADMIN_KEY: g.keysOnly })
  assert.equal(weak.code, 1)
  assert.match(weak.err, /403 insufficient_scope: .*admin:config/)
  assert.equal(g.manager.ring.current().kid, before)
})

test('the command list export names every signing-keys command with help', () => {
  assert.deepEqual(signingKeysCommands.map((c) => c.name), ['signing-keys list', 'signing-keys rotate'])
  for (const c of signingKeysCommands) assert.match(c.help, /^Usage: portcullis signing-keys .*--admin-key-file/s)
})
