import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// audit.enabled: false is an operator's explicit choice (benchmarks, evidence kept elsewhere):
// everything is served, nothing is written, and every place that would show the log says so.
let gw: TestGateway

before(async () => {
  gw = await startTestGateway({ config: { audit: { enabled: false } } })
})
after(async () => {
  await gw.close()
})

test('a start with the audit log off warns loudly and opens no audit directory', () => {
  const warning = gw.logs.map((line) => JSON.parse(line) as { level: number, msg?: string, audit_enabled?: boolean })
    .find((entry) => entry.audit_enabled === false)
  assert.ok(warning !== undefined, 'a warning line names audit_enabled: false')
  assert.equal(warning.level, 40, 'logged at warn level')
  assert.match(warning.msg ?? '', /AUDIT LOG IS DISABLED/)
  assert.equal(existsSync(join(gw.dataDir, 'audit')), false)
  assert.equal(gw.gateway.audit.enabled, false)
})

test('proxy requests are served, with metadata still validated, and leave no record', async () => {
  const key = await gw.createKey({ models: ['mock-*'] })
  const chat = async (headers: Record<string, string> = {}): Promise<Response> => await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] })
  })
  const ok = await chat({ 'x-portcullis-metadata': '{"team":"search"}' })
  assert.equal(ok.status, 200)
  const bad = await chat({ 'x-portcullis-metadata': '[1]' })
  assert.equal(bad.status, 400)
  assert.equal((await bad.json() as { error: { param: string } }).error.param, 'x-portcullis-metadata')
  await gw.gateway.audit.writer.flush()
  assert.equal(existsSync(join(gw.dataDir, 'audit')), false)
  assert.throws(() => gw.gateway.audit.append({ type: 'admin', action: 'x' }), { code: 'audit_disabled' })
})

test('/readyz is ready without an audit check; admin actions are served; the audit search says why it is empty', async () => {
  const ready = await fetch(gw.url + '/readyz')
  assert.equal(ready.status, 200)
  const body = await ready.json() as { status: string, checks: Record<string, string> }
  assert.equal(body.status, 'ready')
  assert.equal(body.checks.audit, undefined)
  const created = await gw.admin('POST', '/admin/v1/keys', { name: 'served', scopes: ['chat'] })
  assert.equal(created.status, 201)
  const search = await gw.admin('GET', '/admin/v1/audit')
  assert.equal(search.status, 404)
  const error = (await search.json() as { error: { code: string, message: string } }).error
  assert.equal(error.code, 'not_found')
  assert.match(error.message, /audit\.enabled: false/)
  const anonymous = await fetch(gw.url + '/admin/v1/audit')
  assert.equal(anonymous.status, 401, 'the route still needs an admin credential')
})
