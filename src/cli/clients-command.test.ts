import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { clientsAdminHarness, type ClientsAdminHarness } from '../admin/clients-test-fixture.ts'
import { verifyClientSecretWithRotation } from '../oauth/client-secret.ts'
import type { Command } from './command.ts'
import { runCommand, listeningAdminEnv } from './run-command-fixture.ts'
import {
  clientsCommands, clientsCreateCommand, clientsDeleteCommand, clientsDisableCommand, clientsEnableCommand, clientsGetCommand,
  clientsListCommand, clientsRevokeTokensCommand, clientsRotateCommand
} from './clients-command.ts'

interface Gateway extends ClientsAdminHarness {
  readonly env: NodeJS.ProcessEnv
}

async function gateway (t: TestContext): Promise<Gateway> {
  const h = await clientsAdminHarness(t)
  return { ...h, env: await listeningAdminEnv(h.app, h.clientsAdmin) }
}

const run = runCommand

test('clients create prints the secret once; --json gives the full object', async (t) => {
  const g = await gateway(t)
  const human = await run(clientsCreateCommand, [
    '--name', 'billing-svc', '--scopes', 'chat', '--tenant', 'acme', '--roles', 'user', '--models', 'gpt-4o-mini,qwen2.5-*',
    '--allowed-ips', '10.0.0.0/8, 2001:db8::/32', '--metadata', '{"team":"billing"}'
  ], g.env)
  assert.equal(human.code, 0, human.err)
  assert.match(human.out, /^Created cli_\S+ \(billing-svc\)/)
  assert.match(human.out, /Client secret \(shown once/)
  const secret = /^\s+(pcs_\S+)$/m.exec(human.out)?.[1]
  const id = /^client id:\s+(cli_\S+)$/m.exec(human.out)?.[1]
  assert.ok(secret !== undefined && id !== undefined, human.out)
  const client = await g.clients.service.get(id)
  assert.equal(await verifyClientSecretWithRotation(secret, client), 'current')
  assert.deepEqual([client.tenant, client.scopes, client.roles, client.models, client.allowedIps],
    ['acme', ['chat'], ['user'], ['gpt-4o-mini', 'qwen2.5-*'], ['10.0.0.0/8', '2001:db8::/32']])
  const json = await run(clientsCreateCommand, ['--name', 'x', '--roles', 'user', '--json'], g.env)
  const created = JSON.parse(json.out)
  assert.equal(created.object, 'oauth_client')
  assert.match(created.client_secret, /^pcs_/)
  assert.deepEqual(created.scopes, [])
})

test('clients list follows every page; get, disable, enable, revoke-tokens, rotate and delete act on one client', async (t) => {
  const g = await gateway(t)
  for (let i = 0; i < 101; i++) await g.clients.service.create({ name: `bulk-${i}`, scopes: ['chat'] })
  assert.equal(JSON.parse((await run(clientsListCommand, ['--json'], g.env)).out).length, 101)
  const table = await run(clientsListCommand, [], g.env)
  assert.match(table.out, /^CLIENT ID\s+NAME\s+TENANT\s+SCOPES\s+ROLES\s+STATUS\s+CREATED/)
  assert.equal(table.out.split('\n').length, 102)
  const { client, secret } = await g.clients.service.create({ name: 'target', scopes: ['chat'] })
  const shown = await run(clientsGetCommand, [client.id], g.env)
  assert.match(shown.out, /name:\s+target/)
  assert.match(shown.out, /status:\s+active/)
  assert.ok(!shown.out.includes(secret.slice(4)))
  assert.match((await run(clientsDisableCommand, [client.id], g.env)).out, /^Disabled cli_\S+ \(target\)[^]*status:\s+disabled/)
  assert.match((await run(clientsEnableCommand, [client.id], g.env)).out, /status:\s+active/)
  const revoked = await run(clientsRevokeTokensCommand, [client.id, '--json'], g.env)
  assert.equal(JSON.parse(revoked.out).tokens_revoked_before, Math.floor(g.clients.clock.now / 1000))
  for (const [grace, seconds] of [['3600', 3600], ['2h', 7200]] as const) {
    const rotated = await run(clientsRotateCommand, [client.id, '--grace-period', grace, '--json'], g.env)
    assert.equal(rotated.code, 0, rotated.err)
    const body = JSON.parse(rotated.out)
    assert.equal(body.previous_secret_expires_at, body.rotated_at + seconds)
    assert.equal(await verifyClientSecretWithRotation(body.client_secret, await g.clients.service.get(client.id)), 'current')
  }
  assert.match((await run(clientsRotateCommand, [client.id], g.env)).out, /the old secret stops working now/)
  const deleted = await run(clientsDeleteCommand, [client.id], g.env)
  assert.equal(deleted.out, `Deleted ${client.id}`)
  await assert.rejects(g.clients.service.get(client.id), { code: 'not_found' })
})

test('API errors exit 1 with the status, code and an admin:clients hint; usage errors exit 2', async (t) => {
  const g = await gateway(t)
  const weak = await run(clientsListCommand, [], { ...g.env, PORTCULLIS_ADMIN_KEY: g.chat })
  assert.equal(weak.code, 1)
  assert.match(weak.err, /403 insufficient_scope: .*admin:clients scope/)
  const escalation = await run(clientsCreateCommand, ['--name', 'x', '--scopes', 'admin'], g.env)
  assert.equal(escalation.code, 1)
  assert.match(escalation.err, /403 insufficient_scope: Only a holder of "admin"/)
  assert.doesNotMatch(escalation.err, /admin:keys/)
  const missing = await run(clientsGetCommand, ['cli_AAAAAAAAAAAAAAAA'], g.env)
  assert.deepEqual([missing.code, /404 not_found/.test(missing.err)], [1, true])
  const invalid = await run(clientsCreateCommand, ['--name', 'x', '--scopes', 'chat', '--allowed-ips', 'example.com'], g.env)
  assert.equal(invalid.code, 1)
  assert.match(invalid.err, /400 invalid_request: .*is not an IP address or CIDR range/)
  const usage: Array<[Command, string[], RegExp]> = [
    [clientsCreateCommand, ['--scopes', 'chat'], /--name and --scopes \(or --roles\) are required/],
    [clientsCreateCommand, ['--name', 'x'], /--name and --scopes \(or --roles\) are required/],
    [clientsCreateCommand, ['--name', 'x', '--scopes', 'chat', '--metadata', '[1]'], /--metadata must be a JSON object/],
    [clientsGetCommand, [], /exactly one client id/],
    [clientsDeleteCommand, ['a', 'b'], /exactly one client id/],
    [clientsRotateCommand, ['cli_AAAAAAAAAAAAAAAA', '--grace-period', 'soon'], /--grace-period: invalid duration/],
    [clientsListCommand, ['--colour'], /Unknown option/]
  ]
  for (const [command, argv, message] of usage) {
    const res = await run(command, argv, g.env)
    assert.equal(res.code, 2, `${command.name} ${argv.join(' ')}`)
    assert.match(res.err, message)
  }
})

test('the command list export names every clients command with help', () => {
  assert.deepEqual(clientsCommands.map((c) => c.name), [
    'clients create', 'clients list', 'clients get', 'clients disable', 'clients enable', 'clients rotate', 'clients revoke-tokens', 'clients delete'
  ])
  for (const c of clientsCommands) assert.match(c.help, /^Usage: portcullis clients .*--admin-key-file.*--json/s)
})
