import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { limitsAdminHarness, type LimitsAdminHarness } from '../admin/limits-routes-fixture.ts'
import { runCommand as run, listeningAdminEnv } from './run-command-fixture.ts'
import { usageCommand, usageCommands } from './usage-command.ts'

const hour = 3_600_000

async function gateway (t: TestContext): Promise<LimitsAdminHarness & { env: NodeJS.ProcessEnv, thisHour: number }> {
  const h = await limitsAdminHarness(t, { now: Date.now })
  const thisHour = Math.floor(Date.now() / hour) * hour
  const cell = { keyId: 'key_a', clientId: null, tenant: 'acme', requests: 1, inputTokens: 1_000, outputTokens: 500 }
  await h.store.usage.add([
    { ...cell, hour: thisHour, model: 'gpt-4o', costMicroUsd: 7_500 },
    { ...cell, hour: thisHour - hour, model: 'gpt-4o-mini', requests: 3, costMicroUsd: 2_000_000 },
    { ...cell, hour: thisHour - 3 * 24 * hour, model: 'gpt-4o', costMicroUsd: 1 }
  ])
  return { ...h, thisHour, env: await listeningAdminEnv(h.app, h.operator) }
}

test('usage prints a table by model with a TOTAL line; --from 7d widens the window; --json is the API answer', async (t) => {
  const g = await gateway(t)
  const res = await run(usageCommand, [], g.env)
  assert.equal(res.code, 0, res.err)
  const lines = res.out.split('\n')
  assert.match(lines[0] as string, /^Usage from \d{4}-\d\d-\d\d \d\d:00:00Z to .*, by model$/)
  assert.match(lines[1] as string, /^MODEL\s+REQUESTS\s+INPUT TOKENS\s+OUTPUT TOKENS\s+COST \(USD\)$/)
  assert.match(lines[2] as string, /^gpt-4o-mini\s+3\s+1,000\s+500\s+\$2\.000000$/)
  assert.match(lines[3] as string, /^gpt-4o\s+1\s+1,000\s+500\s+\$0\.007500$/)
  assert.match(lines[4] as string, /^TOTAL\s+4\s+2,000\s+1,000\s+\$2\.007500$/)
  const week = JSON.parse((await run(usageCommand, ['--from', '7d', '--group-by', 'hour,model', '--json'], g.env)).out)
  assert.equal(week.data.length, 3)
  assert.equal(week.data[0].hour, (g.thisHour - 3 * 24 * hour) / 1000)
  const totals = await run(usageCommand, ['--group-by', '', '--model', 'gpt-4o'], g.env)
  assert.match(totals.out, /^TOTAL\s+1\s+1,000\s+500\s+\$0\.007500$/m)
  const empty = await run(usageCommand, ['--tenant', 'nobody'], g.env)
  assert.match(empty.out, /No usage in this window\./)
})

test('usage: a tenant admin asking for another tenant exits 1; a bad --from is refused', async (t) => {
  const g = await gateway(t)
  const other = await run(usageCommand, ['--tenant', 'globex'], { ...g.env, PORTCULLIS_ADMIN_KEY: g.acmeAdmin })
  assert.equal(other.code, 1)
  assert.match(other.err, /403 forbidden/)
  const weak = await run(usageCommand, [], { ...g.env, PORTCULLIS_ADMIN_KEY: g.keysOnly })
  assert.match(weak.err, /admin:usage scope/)
  const bad = await run(usageCommand, ['--from', 'last-week'], g.env)
  assert.deepEqual([bad.code, /400 invalid_request: from must be Unix seconds or an ISO 8601 time/.test(bad.err)], [1, true])
  assert.equal((await run(usageCommand, ['extra'], g.env)).code, 2)
  assert.deepEqual(usageCommands.map((c) => c.name), ['usage'])
  assert.match(usageCommand.help, /^Usage: portcullis usage \[--from/)
})
