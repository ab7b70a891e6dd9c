import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { createAdminTestApp } from '../admin/admin-test-app.ts'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import type { Command } from './command.ts'
import { runCommand } from './run-command-fixture.ts'
import { keysCommands, keysCreateCommand, keysGetCommand, keysListCommand, keysRevokeCommand, keysRotateCommand } from './keys-command.ts'

interface Gateway extends KeyServiceFixture {
  readonly url: string
  readonly adminKey: string
}

async function gateway (t: TestContext): Promise<Gateway> {
  const f = await startKeyService(t)
  const app = await createAdminTestApp(t, f.service)
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const adminKey = (await f.service.create({ name: 'cli-admin', scopes: ['admin:keys'] })).secret
  return { ...f, url: address, adminKey }
}

const run = runCommand

test('keys create prints the secret once; --json gives the full object', async (t) => {
  const g = await gateway(t)
  const env = { PORTCULLIS_URL: g.url, PORTCULLIS_ADMIN_KEY: g.adminKey }
  const human = await run(keysCreateCommand, ['--name', 'ci-bot', '--scopes', 'chat,embeddings', '--models', 'gpt-4o-mini,qwen2.5-*', '--ttl', '24h', '--tenant', 'acme', '--metadata', '{"team":"ml"}'], env)
  assert.equal(human.code, 0, human.err)
  const secret = /^\s+(pcl_\S+)$/m.exec(human.out)?.[1]
  assert.ok(secret !== undefined, human.out)
  const principal = await g.service.verify(secret)
  assert.deepEqual([...principal.scopes], ['chat', 'embeddings'])
  assert.match(human.out, /Secret \(shown once/)
  assert.match(human.out, /tenant:\s+acme/)
  const json = await run(keysCreateCommand, ['--name', 'x', '--scopes', 'chat', '--json', '--url', g.url], { PORTCULLIS_ADMIN_KEY: g.adminKey })
  const key = JSON.parse(json.out)
  assert.equal(key.name, 'x')
  assert.match(key.secret, /^pcl_/)
  assert.equal(key.expires_at, null)
})

test('keys list follows every page; get, revoke and rotate act on one key', async (t) => {
  const g = await gateway(t)
  const env = { PORTCULLIS_URL: g.url, PORTCULLIS_ADMIN_KEY: g.adminKey }
  for (let i = 0; i < 104; i++) await g.service.create({ name: `bulk-${i}`, scopes: ['chat'] })
  const all = await run(keysListCommand, ['--json'], env)
  assert.equal(JSON.parse(all.out).length, 105)
  const table = await run(keysListCommand, [], env)
  assert.match(table.out, /^ID\s+NAME\s+TENANT\s+SCOPES\s+STATUS/)
  assert.equal(table.out.split('\n').length, 106)
  const { key, secret } = await g.service.create({ name: 'target', scopes: ['chat'] })
  const shown = await run(keysGetCommand, [key.id], env)
  assert.match(shown.out, /name:\s+target/)
  assert.ok(!shown.out.includes(secret))
  const rotated = await run(keysRotateCommand, [key.id, '--grace', '1h', '--json'], env)
  assert.equal(rotated.code, 0, rotated.err)
  const fresh = JSON.parse(rotated.out).secret as string
  await g.service.verify(secret)
  await g.service.verify(fresh)
  const revoked = await run(keysRevokeCommand, [key.id], env)
  assert.match(revoked.out, /Revoked key_\S+ \(target\)/)
  await assert.rejects(async () => await g.service.verify(fresh), /revoked/)
})

test('the admin key may come from --admin-key-file', async (t) => {
  const g = await gateway(t)
  const file = join(g.dataDir, 'admin.key')
  await writeFile(file, g.adminKey + '\n', { mode: 0o600 })
  const res = await run(keysListCommand, ['--admin-key-file', file, '--url', g.url], {})
  assert.equal(res.code, 0, res.err)
})

test('API errors exit 1 with the status and code; usage errors exit 2', async (t) => {
  const g = await gateway(t)
  const chat = (await g.service.create({ name: 'chat', scopes: ['chat'] })).secret
  const wrong = await run(keysListCommand, [], { PORTCULLIS_URL: g.url, PORTCULLIS_ADMIN_KEY: 'x'.repeat(40) })
  assert.equal(wrong.code, 1)
  assert.match(wrong.err, /401 invalid_api_key: .*PORTCULLIS_ADMIN_KEY/)
  const weak = await run(keysListCommand, [], { PORTCULLIS_URL: g.url, PORTCULLIS_ADMIN_KEY: chat })
  assert.equal(weak.code, 1)
  assert.match(weak.err, /403 insufficient_scope/)
  const env = { PORTCULLIS_URL: g.url, PORTCULLIS_ADMIN_KEY: g.adminKey }
  const missing = await run(keysGetCommand, ['key_AAAAAAAAAAAAAAAA'], env)
  assert.equal(missing.code, 1)
  assert.match(missing.err, /404 not_found/)
  const invalid = await run(keysCreateCommand, ['--name', 'x', '--scopes', 'root'], env)
  assert.equal(invalid.code, 1)
  assert.match(invalid.err, /400 invalid_request: unknown scope "root"/)
  const usage: Array<[Command, string[], NodeJS.ProcessEnv, RegExp]> = [
    [keysListCommand, [], { PORTCULLIS_URL: g.url }, /no admin key/],
    [keysCreateCommand, ['--scopes', 'chat'], env, /--name and --scopes \(or --roles\) are required/],
    [keysCreateCommand, ['--name', 'x', '--scopes', 'chat', '--ttl', '24'], env, /--ttl: invalid duration/],
    [keysCreateCommand, ['--name', 'x', '--scopes', 'chat', '--metadata', '[1]'], env, /--metadata must be a JSON object/],
    [keysGetCommand, [], env, /exactly one key id/],
    [keysRotateCommand, ['key_AAAAAAAAAAAAAAAA', '--grace', 'soon'], env, /--grace: invalid duration/],
    [keysListCommand, ['--colour'], env, /Unknown option/],
    [keysListCommand, ['--url', 'ftp://x'], env, /http:\/\/ or https:\/\//]
  ]
  for (const [command, argv, e, message] of usage) {
    const res = await run(command, argv, e)
    assert.equal(res.code, 2, `${command.name} ${argv.join(' ')}`)
    assert.match(res.err, message)
  }
})

test('an unreachable gateway is reported with a hint to start it', async () => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise((resolve) => probe.close(resolve))
  const res = await run(keysListCommand, [], { PORTCULLIS_URL: `http://127.0.0.1:${port}`, PORTCULLIS_ADMIN_KEY: randomBytes(32).toString('hex') })
  assert.equal(res.code, 1)
  assert.match(res.err, new RegExp(`cannot reach the gateway at http://127\\.0\\.0\\.1:${port} — is it running\\? start it with \`npm start\``))
})

test('the command list export names every keys command with help', () => {
  assert.deepEqual(keysCommands.map((c) => c.name), ['keys create', 'keys list', 'keys get', 'keys revoke', 'keys rotate'])
  for (const c of keysCommands) assert.match(c.help, /^Usage: portcullis keys .*--admin-key-file/s)
})
