import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sampleClient } from '../store/store-contract-oauth.ts'
import { call, limitsAdminHarness } from './limits-routes-fixture.ts'

test('a tenant admin sets limits on its own tenant, keys and clients; the policy belongs to its tenant', async (t) => {
  const h = await limitsAdminHarness(t)
  const acmeKey = (await h.service.create({ name: 'acme-app', scopes: ['chat'], tenant: 'acme' })).key.id
  const acmeClient = sampleClient({ tenant: 'acme' })
  await h.store.clients.insert(acmeClient)
  for (const target of [{ kind: 'tenant', id: 'acme' }, { kind: 'key', id: acmeKey }, { kind: 'client', id: acmeClient.id }]) {
    const res = await call(h, 'POST', '/policies', h.acmeAdmin, { target, budget_usd: 20, budget_period: 'monthly' })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.tenant, 'acme')
  }
  const explicit = await call(h, 'POST', '/policies', h.acmeAdmin, { target: { kind: 'tenant', id: 'acme' }, tenant: 'acme', requests_per_minute: 5 })
  assert.equal(explicit.status, 201)
})

test('another tenant\'s key or client is a 404 exactly like a missing one; other tenants, global and model are 403', async (t) => {
  const h = await limitsAdminHarness(t)
  const globexKey = (await h.service.create({ name: 'globex-app', scopes: ['chat'], tenant: 'globex' })).key.id
  const sharedKey = (await h.service.create({ name: 'shared', scopes: ['chat'] })).key.id
  const globexClient = sampleClient({ tenant: 'globex' })
  await h.store.clients.insert(globexClient)
  const missingKey = await call(h, 'POST', '/policies', h.acmeAdmin, { target: { kind: 'key', id: 'key_AAAAAAAAAAAAAAAA' }, requests_per_minute: 1 })
  assert.equal(missingKey.status, 404)
  for (const id of [globexKey, sharedKey]) {
    const res = await call(h, 'POST', '/policies', h.acmeAdmin, { target: { kind: 'key', id }, requests_per_minute: 1 })
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, missingKey.body)
  }
  const client = await call(h, 'POST', '/policies', h.acmeAdmin, { target: { kind: 'client', id: globexClient.id }, requests_per_minute: 1 })
  assert.equal(client.status, 404)
  assert.equal(client.body.error.param, 'target.id')
  const refused: Array<[unknown, string]> = [
    [{ target: { kind: 'tenant', id: 'globex' }, requests_per_minute: 1 }, 'target.id'],
    [{ target: { kind: 'global' }, requests_per_minute: 1 }, 'target.kind'],
    [{ target: { kind: 'model', id: 'gpt-4o' }, requests_per_minute: 1 }, 'target.kind'],
    [{ target: { kind: 'tenant', id: 'acme' }, tenant: 'globex', requests_per_minute: 1 }, 'tenant']
  ]
  for (const [payload, param] of refused) {
    const res = await call(h, 'POST', '/policies', h.acmeAdmin, payload)
    assert.equal(res.status, 403, JSON.stringify(payload))
    assert.equal(res.body.error.code, 'forbidden')
    assert.equal(res.body.error.param, param)
  }
  assert.deepEqual(await h.store.policies.listAll(), [])
  assert.equal(h.changes.policies, 0)
})

test('a tenant admin cannot see, change or delete another tenant\'s policies, nor the operator\'s', async (t) => {
  const h = await limitsAdminHarness(t)
  const globex = (await call(h, 'POST', '/policies', h.globexAdmin, { target: { kind: 'tenant', id: 'globex' }, requests_per_minute: 7 })).body
  const acmeKey = (await h.service.create({ name: 'acme-app', scopes: ['chat'], tenant: 'acme' })).key.id
  // The operator's limit on an acme key: acme's admin must not be able to loosen it.
  const operators = (await call(h, 'POST', '/policies', h.operator, { target: { kind: 'key', id: acmeKey }, budget_usd: 1, budget_period: 'total' })).body
  const mine = (await call(h, 'POST', '/policies', h.acmeAdmin, { target: { kind: 'key', id: acmeKey }, requests_per_minute: 30 })).body
  const missing = await call(h, 'GET', '/policies/pol_AAAAAAAAAAAAAAAA', h.acmeAdmin)
  for (const id of [globex.id, operators.id]) {
    for (const [method, payload] of [['GET', undefined], ['POST', { requests_per_minute: 1000 }], ['DELETE', undefined]] as const) {
      const res = await call(h, method, `/policies/${id}`, h.acmeAdmin, payload)
      assert.equal(res.status, 404, `${method} ${id}`)
      assert.deepEqual(res.body, missing.body)
    }
  }
  assert.equal((await h.store.policies.get(globex.id))?.requestsPerMinute, 7)
  assert.equal((await h.store.policies.get(operators.id))?.budgetMicroUsd, 1_000_000)
  const listed = await call(h, 'GET', '/policies', h.acmeAdmin)
  assert.deepEqual(listed.body.data.map((p: { id: string }) => p.id), [mine.id])
  const other = await call(h, 'GET', '/policies?tenant=globex', h.acmeAdmin)
  assert.equal(other.status, 403)
  assert.equal(other.body.error.param, 'tenant')
  const cursor = await call(h, 'GET', `/policies?after=${globex.id}`, h.acmeAdmin)
  assert.equal(cursor.status, 400)
  assert.equal(cursor.body.error.param, 'after')
  const all = await call(h, 'GET', '/policies', h.operator)
  assert.equal(all.body.data.length, 3)
  const globexOnly = await call(h, 'GET', '/policies?tenant=globex', h.operator)
  assert.deepEqual(globexOnly.body.data.map((p: { id: string }) => p.id), [globex.id])
  assert.equal((await call(h, 'POST', `/policies/${mine.id}`, h.acmeAdmin, { requests_per_minute: 60 })).body.requests_per_minute, 60)
})

test('the operator may hand a policy to a tenant only when its target belongs to that tenant', async (t) => {
  const h = await limitsAdminHarness(t)
  const acmeKey = (await h.service.create({ name: 'acme-app', scopes: ['chat'], tenant: 'acme' })).key.id
  const handed = await call(h, 'POST', '/policies', h.operator, { target: { kind: 'key', id: acmeKey }, tenant: 'acme', requests_per_minute: 9 })
  assert.equal(handed.status, 201)
  assert.equal((await call(h, 'GET', `/policies/${handed.body.id}`, h.acmeAdmin)).status, 200)
  for (const payload of [
    { target: { kind: 'key', id: acmeKey }, tenant: 'globex', requests_per_minute: 1 },
    { target: { kind: 'tenant', id: 'acme' }, tenant: 'globex', requests_per_minute: 1 },
    { target: { kind: 'global' }, tenant: 'acme', requests_per_minute: 1 }
  ]) {
    const res = await call(h, 'POST', '/policies', h.operator, payload)
    assert.equal(res.status, 400, JSON.stringify(payload))
    assert.equal(res.body.error.param, 'tenant')
  }
})
