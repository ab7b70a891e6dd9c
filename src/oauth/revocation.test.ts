import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { basicAuth, jsonBody, oauthFixture, obtainToken, request } from './oauth-test-fixture.ts'

const noStore = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' }

test('revoking a token puts its jti on the deny list until its exp', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  const { jti, exp } = decodeJwt(token)
  const response = await fx.revoke(request({ token, token_type_hint: 'access_token' }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.deepEqual([response.status, response.headers, response.body], [200, noStore, '{}'])
  assert.equal(await fx.denyList.isRevoked(String(jti)), true)
  assert.equal(fx.denyList.size(), 1)
  assert.ok(typeof exp === 'number')
  // Revoking again, with any hint, is still a 200 (RFC 7009 §2.1: the hint is only a hint).
  const again = await fx.revoke(request({ token, token_type_hint: 'refresh_token' }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.equal(again.status, 200)
})

test('an unknown, invalid or expired token still answers 200 and revokes nothing (RFC 7009 §2.2)', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  for (const t of ['garbage', token.slice(0, -3), 'a.b.c']) {
    const response = await fx.revoke(request({ token: t }, { authorization: basicAuth(fx.clientId, fx.secret) }))
    assert.deepEqual([response.status, response.body], [200, '{}'])
  }
  assert.equal(fx.denyList.size(), 0)
})

test('only the client a token was issued to may revoke it', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  const other = await fx.addClient({ id: 'client_b' })
  const response = await fx.revoke(request({ token }, { authorization: basicAuth('client_b', other) }))
  assert.equal(response.status, 400)
  assert.deepEqual(jsonBody(response), { error: 'unauthorized_client', error_description: 'The token was not issued to this client.' })
  assert.equal(fx.denyList.size(), 0)
})

test('revocation requires client authentication and exactly one token parameter', async () => {
  const fx = await oauthFixture()
  const token = await obtainToken(fx)
  const noAuth = await fx.revoke(request({ token }))
  assert.deepEqual([noAuth.status, noAuth.headers['www-authenticate'], jsonBody(noAuth).error], [401, 'Basic realm="portcullis"', 'invalid_client'])
  const wrong = await fx.revoke(request({ token, client_id: fx.clientId, client_secret: 'pcs_wrong' }))
  assert.equal(wrong.status, 401)
  const missing = await fx.revoke(request({}, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.deepEqual([missing.status, jsonBody(missing).error], [400, 'invalid_request'])
  const twice = await fx.revoke(request({ token: [token, 'x'] }, { authorization: basicAuth(fx.clientId, fx.secret) }))
  assert.deepEqual([twice.status, jsonBody(twice).error], [400, 'invalid_request'])
  assert.equal(fx.denyList.size(), 0)
})
