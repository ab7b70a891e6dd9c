import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createIntrospectionEndpoint } from './introspection.ts'
import { basicAuth, jsonBody, oauthFixture, obtainToken, request } from './oauth-test-fixture.ts'

const noStore = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' }

test('an active token introspects with its RFC 7662 §2.2 members', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx, 'chat')
  const response = await fx.introspect(request({ token }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(response.status, 200)
  assert.deepEqual(response.headers, noStore)
  const body = jsonBody(response)
  assert.deepEqual(Object.keys(body).sort(), ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'tenant', 'token_type'])
  assert.equal(body.active, true)
  assert.equal(body.scope, 'chat')
  assert.equal(body.client_id, fx.clientId)
  assert.equal(body.token_type, 'Bearer')
  assert.equal(body.tenant, 'acme')
})

test('inactive, unknown, invalid, revoked and hidden tokens are exactly {"active":false}', async () => {
  const fx = await oauthFixture()
  const other = await fx.addClient({ id: 'client_b', tenant: 'globex' })
  const auditor = await fx.addClient({ id: 'client_audit', tenant: 'acme', scopes: ['oauth:introspect'] })
  const token = await obtainToken(fx)
  const ask = async (id: string, secret: string, t: string): Promise<string> =>
    (await fx.introspect(request({ token: t }, { authorization: basicAuth(id, secret) }))).body
  const inactive = JSON.stringify({ active: false })
  assert.equal(await ask(fx.clientId, fx.secret, 'garbage'), inactive)
  assert.equal(await ask(fx.clientId, fx.secret, token.slice(0, -2)), inactive)
  assert.equal(await ask('client_b', other, token), inactive, 'another client of another tenant')
  assert.notEqual(await ask('client_audit', auditor, token), inactive, 'oauth:introspect in the same tenant')
  await fx.addClient({ id: 'client_audit2', tenant: 'globex', scopes: ['oauth:introspect'] }, 'pcs_a2')
  assert.equal(await ask('client_audit2', 'pcs_a2', token), inactive, 'oauth:introspect in another tenant')
  const revoked = await fx.revoke(request({ token }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(revoked.status, 200)
  assert.equal(await ask(fx.clientId, fx.secret, token), inactive)
})

test('introspection requires client authentication and a token parameter', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  const noAuth = await fx.introspect(request({ token }))
  assert.equal(noAuth.status, 401)
  assert.equal(noAuth.headers['www-authenticate'], 'Basic realm="portcullis"')
  assert.equal(jsonBody(noAuth).error, 'invalid_client')
  const wrong = await fx.introspect(request({ token }, { authorization: basicAuth(fx.clientId, 'pcs_wrong') }))
  assert.equal(wrong.status, 401)
  const missing = await fx.introspect(request({}, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.deepEqual([missing.status, jsonBody(missing).error], [400, 'invalid_request'])
  const twice = await fx.introspect(request({ token: [token, token] }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.deepEqual([twice.status, jsonBody(twice).error], [400, 'invalid_request'])
})

test('a custom policy decides who may see a token', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  const introspect = createIntrospectionEndpoint({ ...fx, mayIntrospect: () => false })
  const response = await introspect(request({ token }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(response.body, '{"active":false}')
})
