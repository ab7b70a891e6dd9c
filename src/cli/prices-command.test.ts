import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { limitsAdminHarness, type LimitsAdminHarness } from '../admin/limits-routes-fixture.ts'
import { runCommand as run, listeningAdminEnv } from './run-command-fixture.ts'
import { pricesCommands, pricesListCommand, pricesSetCommand, pricesUnsetCommand } from './prices-command.ts'

async function gateway (t: TestContext): Promise<LimitsAdminHarness & { env: NodeJS.ProcessEnv }> {
  const h = await limitsAdminHarness(t)
  return { ...h, env: await listeningAdminEnv(h.app, h.operator) }
}

test('prices list, set (names with / and *) and unset', async (t) => {
  const g = await gateway(t)
  const table = await run(pricesListCommand, [], g.env)
  assert.equal(table.code, 0, table.err)
  assert.match(table.out, /^MODEL\s+INPUT \/1M\s+OUTPUT \/1M\s+SOURCE/)
  assert.match(table.out, /^gpt-4o-mini\s+\$0\.15\s+\$0\.6\s+default$/m)
  for (const model of ['meta-llama/Llama-3.1-8B-Instruct', 'qwen2.5-*']) {
    const set = await run(pricesSetCommand, [model, '--input', '0.2', '--output', '0.4'], g.env)
    assert.equal(set.code, 0, set.err)
    assert.equal(set.out, `Set ${model}: input $0.2, output $0.4 per million tokens`)
  }
  const json = JSON.parse((await run(pricesListCommand, ['--json'], g.env)).out)
  assert.equal(json.find((p: { model: string }) => p.model === 'qwen2.5-*').source, 'override')
  const over = await run(pricesSetCommand, ['gpt-4o-mini', '--input', '0.1', '--output', '0.5'], g.env)
  assert.equal(over.code, 0)
  const back = await run(pricesUnsetCommand, ['gpt-4o-mini'], g.env)
  assert.equal(back.out, 'Removed the override of gpt-4o-mini; now $0.15 / $0.6 (default)')
  const gone = await run(pricesUnsetCommand, ['meta-llama/Llama-3.1-8B-Instruct'], g.env)
  assert.match(gone.out, /no entry of that name is left/)
  assert.deepEqual((await g.store.prices.listAll()).map((p) => p.model), ['qwen2.5-*'])
})

test('prices: a tenant admin cannot set prices (exit 1); missing amounts are usage errors (exit 2)', async (t) => {
  const g = await gateway(t)
  const tenant = await run(pricesSetCommand, ['gpt-4o', '--input', '1', '--output', '1'], { ...g.env, PORTCULLIS_ADMIN_KEY: g.acmeAdmin })
  assert.equal(tenant.code, 1)
  assert.match(tenant.err, /403 forbidden: Prices apply to every tenant/)
  const missing = await run(pricesUnsetCommand, ['gpt-4o'], g.env)
  assert.match(missing.err, /404 not_found/)
  for (const argv of [['gpt-4o', '--input', '1'], ['gpt-4o', '--input', 'cheap', '--output', '1'], ['--input', '1', '--output', '1']]) {
    const res = await run(pricesSetCommand, argv, g.env)
    assert.equal(res.code, 2, argv.join(' '))
  }
  assert.deepEqual(pricesCommands.map((c) => c.name), ['prices list', 'prices set', 'prices unset'])
})
