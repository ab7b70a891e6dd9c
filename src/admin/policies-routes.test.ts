import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sampleClient } from '../store/store-contract-oauth.ts'
import { call, limitsAdminHarness, type LimitsAdminHarness } from './limits-routes-fixture.ts'

async function key (h: LimitsAdminHarness, tenant: string | null): Promise<string> {
  return (await h.service.create({ name: 'app', scopes: ['chat'], tenant })).key.id
}

test('the operator creates policies of every kind; the budget is USD in the API and micro-USD in the store', async (t) => {
  const h = await limitsAdminHarness(t)
  const keyId = await key(h, 'acme')
  const client = sampleClient({ tenant: 'acme' })
  await h.store.clients.insert(client)
  const created = await call(h, 'POST', '/policies', h.operator, {
    target: { kind: 'key', id: keyId }, requests_per_minute: 60, tokens_per_minute: 40_000, concurrent_requests: 2,
    budget_usd: 12.345678, budget_period: 'monthly', max_tokens: 2_048
  })
  assert.equal(created.status, 201, created.text)
  const at = Math.floor(h.clock.now / 1000)
  assert.match(created.body.id, /^pol_[0-9A-Za-z]{16}$/)
  assert.deepEqual(created.body, {
    object: 'policy', id: created.body.id, target: { kind: 'key', id: keyId }, tenant: null, requests_per_minute: 60,
    tokens_per_minute: 40_000, concurrent_requests: 2, budget_usd: 12.345678, budget_period: 'monthly', max_tokens: 2_048,
    created_at: at, created_by: created.body.created_by, updated_at: at
  })
  assert.match(created.body.created_by, /^key_/)
  const stored = await h.store.policies.get(created.body.id)
  assert.equal(stored?.budgetMicroUsd, 12_345_678)
  for (const target of [{ kind: 'global' }, { kind: 'model', id: 'gpt-4o*' }, { kind: 'tenant', id: 'acme' }, { kind: 'client', id: client.id }]) {
    h.clock.now += 1000
    const res = await call(h, 'POST', '/policies', h.operator, { target, requests_per_minute: 10 })
    assert.equal(res.status, 201, JSON.stringify(target))
    assert.deepEqual(res.body.target, { id: null, ...target })
  }
  assert.equal(h.changes.policies, 5)
  const got = await call(h, 'GET', `/policies/${created.body.id}`, h.operator)
  assert.deepEqual(got.body, created.body)
  const list = await call(h, 'GET', '/policies?limit=2', h.operator)
  assert.equal(list.body.data.length, 2)
  assert.equal(list.body.has_more, true)
  const rest = await call(h, 'GET', `/policies?after=${list.body.next_cursor}`, h.operator)
  assert.equal(rest.body.data.length, 3)
  assert.equal(rest.body.data.at(-1).id, created.body.id, 'newest first: the first policy comes last')
  const keyPolicies = await call(h, 'GET', `/policies?target_kind=key&target_id=${keyId}`, h.operator)
  assert.deepEqual(keyPolicies.body.data.map((p: { id: string }) => p.id), [created.body.id])
  const typo = await call(h, 'GET', '/policies?target=key', h.operator)
  assert.deepEqual([typo.status, typo.body.error.param], [400, 'target'])
})

test('invalid policies are refused naming the admin API field, and nothing is stored', async (t) => {
  const h = await limitsAdminHarness(t)
  const keyId = await key(h, null)
  const target = { kind: 'key', id: keyId }
  const cases: Array<[unknown, string]> = [
    [{ target: { kind: 'user', id: 'x' }, requests_per_minute: 1 }, 'target.kind'],
    [{ target: { kind: 'key', id: 'key_short' }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'key' }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'client', id: keyId }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'model', id: 'gpt-*-mini' }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'tenant', id: '' }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'global', id: 'all' }, requests_per_minute: 1 }, 'target.id'],
    [{ target, requests_per_minute: 0 }, 'requests_per_minute'],
    [{ target, requests_per_minute: 1.5 }, 'requests_per_minute'],
    [{ target, tokens_per_minute: -5 }, 'tokens_per_minute'],
    [{ target, concurrent_requests: '2' }, 'concurrent_requests'],
    [{ target, budget_usd: 10 }, 'budget_period'],
    [{ target, budget_period: 'daily', requests_per_minute: 5 }, 'budget_usd'],
    [{ target, budget_usd: 10, budget_period: 'weekly' }, 'budget_period'],
    [{ target, budget_usd: 0, budget_period: 'daily' }, 'budget_usd'],
    [{ target, budget_usd: 0.0000001, budget_period: 'daily' }, 'budget_usd'],
    [{ target, max_tokens: 1_000_001 }, 'max_tokens'],
    [{ target, max_tokens: 0 }, 'max_tokens'],
    [{ target }, 'requests_per_minute'],
    [{ target, requests_per_minute: 5, rpm: 5 }, 'rpm'],
    [{ requests_per_minute: 5 }, 'target']
  ]
  for (const [payload, param] of cases) {
    const res = await call(h, 'POST', '/policies', h.operator, payload)
    assert.equal(res.status, 400, JSON.stringify(payload))
    assert.equal(res.body.error.code, 'invalid_request')
    assert.equal(res.body.error.param, param, JSON.stringify(payload))
  }
  assert.equal((await call(h, 'POST', '/policies', h.operator, { target, max_tokens: 1_000_000 })).status, 201, 'the bound itself is allowed')
  const missing = await call(h, 'POST', '/policies', h.operator, { target: { kind: 'key', id: 'key_AAAAAAAAAAAAAAAA' }, requests_per_minute: 1 })
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error.param, 'target.id')
  assert.equal((await h.store.policies.listAll()).length, 1)
  assert.equal(h.changes.policies, 1)
  const weak = await call(h, 'POST', '/policies', h.keysOnly, { target, requests_per_minute: 1 })
  assert.equal(weak.status, 403)
  assert.equal(weak.body.error.code, 'insufficient_scope')
})

test('update is partial, clears with null, keeps the target; delete removes once', async (t) => {
  const h = await limitsAdminHarness(t)
  const created = (await call(h, 'POST', '/policies', h.operator, {
    target: { kind: 'tenant', id: 'acme' }, requests_per_minute: 60, budget_usd: 5, budget_period: 'daily'
  })).body
  h.clock.now += 10_000
  const raised = await call(h, 'POST', `/policies/${created.id}`, h.operator, { requests_per_minute: 120, max_tokens: 512 })
  assert.equal(raised.status, 200, raised.text)
  assert.deepEqual(raised.body, { ...created, requests_per_minute: 120, max_tokens: 512, updated_at: created.updated_at + 10 })
  const noBudget = await call(h, 'POST', `/policies/${created.id}`, h.operator, { budget_usd: null })
  assert.deepEqual([noBudget.body.budget_usd, noBudget.body.budget_period, noBudget.body.requests_per_minute], [null, null, 120])
  const empty = await call(h, 'POST', `/policies/${created.id}`, h.operator, { requests_per_minute: null, max_tokens: null })
  assert.equal(empty.status, 400)
  assert.equal(empty.body.error.param, 'requests_per_minute')
  for (const field of ['target', 'tenant']) {
    const res = await call(h, 'POST', `/policies/${created.id}`, h.operator, { [field]: field === 'target' ? { kind: 'global' } : 'globex' })
    assert.equal(res.status, 400)
    assert.equal(res.body.error.param, field)
  }
  assert.equal((await h.store.policies.get(created.id))?.targetId, 'acme')
  const changesBefore = h.changes.policies
  const deleted = await call(h, 'DELETE', `/policies/${created.id}`, h.operator)
  assert.deepEqual(deleted.body, { id: created.id, object: 'policy', deleted: true })
  assert.equal(h.changes.policies, changesBefore + 1)
  assert.equal((await call(h, 'DELETE', `/policies/${created.id}`, h.operator)).status, 404)
  assert.equal((await call(h, 'GET', `/policies/${created.id}`, h.operator)).status, 404)
  assert.equal((await call(h, 'GET', '/policies/not-an-id', h.operator)).status, 404)
})
