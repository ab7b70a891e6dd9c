import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Command } from './command.ts'
import { limitsAdminHarness, type LimitsAdminHarness } from '../admin/limits-routes-fixture.ts'
import { runCommand as run, listeningAdminEnv } from './run-command-fixture.ts'
import {
  policiesCommands, policiesCreateCommand, policiesDeleteCommand, policiesGetCommand, policiesListCommand, policiesUpdateCommand
} from './policies-command.ts'

interface Gateway extends LimitsAdminHarness {
  readonly env: NodeJS.ProcessEnv
}

async function gateway (t: TestContext): Promise<Gateway> {
  const h = await limitsAdminHarness(t)
  return { ...h, env: await listeningAdminEnv(h.app, h.operator) }
}

test('policies create, get, update, list and delete one policy', async (t) => {
  const g = await gateway(t)
  const keyId = (await g.service.create({ name: 'app', scopes: ['chat'] })).key.id
  const created = await run(policiesCreateCommand, [
    '--target', `key:${keyId}`, '--requests-per-minute', '60', '--budget-usd', '12.5', '--budget-period', 'monthly', '--max-tokens', '2048'
  ], g.env)
  assert.equal(created.code, 0, created.err)
  assert.match(created.out, new RegExp(`^Created pol_\\S+ for key:${keyId}`))
  assert.match(created.out, /budget:\s+\$12\.5 monthly/)
  const id = /^id:\s+(pol_\S+)$/m.exec(created.out)?.[1] as string
  assert.deepEqual(await g.store.policies.get(id).then((p) => [p?.requestsPerMinute, p?.budgetMicroUsd, p?.maxTokens]), [60, 12_500_000, 2048])
  const model = await run(policiesCreateCommand, ['--target', 'model:qwen2.5:7b', '--tokens-per-minute', '1000', '--json'], g.env)
  assert.deepEqual(JSON.parse(model.out).target, { kind: 'model', id: 'qwen2.5:7b' })
  const shown = await run(policiesGetCommand, [id], g.env)
  assert.match(shown.out, /requests\/min:\s+60/)
  const updated = await run(policiesUpdateCommand, [id, '--requests-per-minute', 'none', '--concurrent-requests', '3', '--json'], g.env)
  assert.equal(updated.code, 0, updated.err)
  assert.deepEqual([JSON.parse(updated.out).requests_per_minute, JSON.parse(updated.out).concurrent_requests], [null, 3])
  const table = await run(policiesListCommand, [], g.env)
  assert.match(table.out, /^POLICY ID\s+TARGET\s+TENANT\s+RPM\s+TPM\s+CONCURRENT\s+BUDGET\s+MAX TOKENS/)
  assert.equal(table.out.split('\n').length, 3)
  const onlyKeys = JSON.parse((await run(policiesListCommand, ['--target', 'key', '--json'], g.env)).out)
  assert.deepEqual(onlyKeys.map((p: { id: string }) => p.id), [id])
  assert.equal((await run(policiesDeleteCommand, [id], g.env)).out, `Deleted ${id}`)
  assert.equal(await g.store.policies.get(id), null)
})

test('policies: API errors exit 1 naming the field or the admin:config scope; usage errors exit 2', async (t) => {
  const g = await gateway(t)
  const invalid = await run(policiesCreateCommand, ['--target', 'global', '--budget-usd', '5'], g.env)
  assert.equal(invalid.code, 1)
  assert.match(invalid.err, /400 invalid_request: a budget needs budget_period/)
  const weak = await run(policiesListCommand, [], { ...g.env, PORTCULLIS_ADMIN_KEY: g.keysOnly })
  assert.equal(weak.code, 1)
  assert.match(weak.err, /403 insufficient_scope: .*admin:config scope/)
  const tenant = await run(policiesCreateCommand, ['--target', 'global', '--requests-per-minute', '5'], { ...g.env, PORTCULLIS_ADMIN_KEY: g.acmeAdmin })
  assert.match(tenant.err, /403 forbidden: Global and model policies/)
  const usage: Array<[Command, string[], RegExp]> = [
    [policiesCreateCommand, ['--requests-per-minute', '5'], /--target is required/],
    [policiesCreateCommand, ['--target', 'global', '--requests-per-minute', 'lots'], /--requests-per-minute must be a number/],
    [policiesUpdateCommand, ['pol_AAAAAAAAAAAAAAAA'], /nothing to change/],
    [policiesGetCommand, [], /exactly one policy id/],
    [policiesListCommand, ['--colour'], /Unknown option/]
  ]
  for (const [command, argv, message] of usage) {
    const res = await run(command, argv, g.env)
    assert.equal(res.code, 2, `${command.name} ${argv.join(' ')}`)
    assert.match(res.err, message)
  }
  assert.deepEqual(policiesCommands.map((c) => c.name), ['policies create', 'policies list', 'policies get', 'policies update', 'policies delete'])
  for (const c of policiesCommands) assert.match(c.help, /^Usage: portcullis policies .*--admin-key-file.*--json/s)
})
