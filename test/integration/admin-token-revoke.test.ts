import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

async function tokenFor (gw: TestGateway, tenant: string | null): Promise<{ token: string, clientId: string }> {
  const res = await gw.admin('POST', '/admin/v1/clients', { name: 'svc', scopes: ['models:read'], ...(tenant === null ? {} : { tenant }) })
  const client = await res.json() as { client_id: string, client_secret: string }
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')
  const tokenRes = await fetch(`${gw.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials'
  })
  assert.equal(tokenRes.status, 200)
  return { token: (await tokenRes.json() as { access_token: string }).access_token, clientId: client.client_id }
}

async function models (gw: TestGateway, token: string): Promise<number> {
  return (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status
}

async function revoke (gw: TestGateway, credential: string, body: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(`${gw.url}/admin/v1/tokens/revoke`, {
    method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}

test('an administrator revokes one access token; the next request with it is refused, other tokens still work', async (t) => {
  const gw = await startTestGateway()
  t.after(() => gw.close())
  const leaked = await tokenFor(gw, null)
  const other = await tokenFor(gw, null)
  assert.equal(await models(gw, leaked.token), 200)
  const res = await revoke(gw, gw.adminKey, { token: leaked.token })
  assert.equal(res.status, 200)
  assert.equal(res.body.object, 'token_revocation')
  assert.equal(res.body.revoked, true)
  assert.equal(typeof res.body.jti, 'string')
  assert.equal(await models(gw, leaked.token), 401)
  assert.equal(await models(gw, other.token), 200)
  // By jti, as for a token of an external issuer, the operator may revoke too.
  const byJti = await revoke(gw, gw.adminKey, { jti: 'external-jti-1', expires_at: Math.floor(Date.now() / 1000) + 600 })
  assert.equal(byJti.status, 200)
  assert.ok(!JSON.stringify(gw.logs).includes(leaked.token), 'the token reached a log line')
})

test('a tenant admin revokes only its own tenant\'s tokens: another tenant\'s token is 404 and keeps working', async (t) => {
  const gw = await startTestGateway()
  t.after(() => gw.close())
  const acmeAdmin = (await gw.createKey({ name: 'acme-admin', tenant: 'acme', scopes: [], roles: ['tenant-admin'] })).secret
  const globex = await tokenFor(gw, 'globex')
  const acme = await tokenFor(gw, 'acme')
  const refused = await revoke(gw, acmeAdmin, { token: globex.token })
  assert.equal(refused.status, 404)
  assert.equal(refused.body.error.code, 'not_found')
  assert.equal(await models(gw, globex.token), 200)
  const byJti = await revoke(gw, acmeAdmin, { jti: 'x', expires_at: Math.floor(Date.now() / 1000) + 60 })
  assert.equal(byJti.status, 403)
  assert.equal((await revoke(gw, acmeAdmin, { token: acme.token })).status, 200)
  assert.equal(await models(gw, acme.token), 401)
})

test('bad revocation requests name the field', async (t) => {
  const gw = await startTestGateway()
  t.after(() => gw.close())
  for (const [body, param] of [
    [{}, 'token'], [{ token: 'a', jti: 'b' }, 'token'], [{ jti: 'b' }, 'expires_at'], [{ token: 'not-a-jwt' }, 'token'], [{ tokn: 'x' }, 'tokn']
  ] as const) {
    const res = await revoke(gw, gw.adminKey, body)
    assert.equal(res.status, 400, JSON.stringify(body))
    assert.equal(res.body.error.param, param, JSON.stringify(body))
  }
  const chatKey = (await gw.createKey({ scopes: ['chat'] })).secret
  assert.equal((await revoke(gw, chatKey, { jti: 'x', expires_at: 1 })).status, 403)
})
