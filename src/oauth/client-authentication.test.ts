import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileIpList } from '../lib/ip-list.ts'
import { presentedClientId } from './client-authentication.ts'
import { basicAuth, oauthFixture, request } from './oauth-test-fixture.ts'

const grant = { grant_type: 'client_credentials' }

test('a client with allowed IPs authenticates only from them; elsewhere it is a plain invalid_client', async () => {
  const fx = await oauthFixture()
  await fx.addClient({ id: 'client_ip', allowedIps: compileIpList(['10.0.0.0/8', '2001:db8::1'], 'allowed_ips') }, 'pcs_right')
  const basic = basicAuth('client_ip', 'pcs_right')
  const at = async (ip: string | undefined) => await fx.token({ headers: { authorization: basic }, form: grant, ...(ip === undefined ? {} : { ip }) })
  assert.equal((await at('10.1.2.3')).status, 200)
  assert.equal((await at('2001:db8::1')).status, 200)
  const wrongSecret = await fx.token({ headers: { authorization: basicAuth('client_ip', 'pcs_wrong') }, form: grant, ip: '10.1.2.3' })
  for (const refused of [await at('192.0.2.1'), await at(undefined)]) {
    // Exactly the answer of a wrong secret: the list is not revealed.
    assert.deepEqual(refused, wrongSecret)
    assert.equal(refused.status, 401)
  }
  // A client without a list is unaffected by the address.
  assert.equal((await fx.token(request(grant, { authorization: basicAuth(fx.clientId, fx.secret) }))).status, 200)
})

test('presentedClientId names the client a request claims to be, for the throttle, without checking it', () => {
  assert.equal(presentedClientId(request(grant, { authorization: basicAuth('svc:ü+1', 'x') })), 'svc:ü+1')
  assert.equal(presentedClientId(request({ client_id: 'body_id', client_secret: 's' })), 'body_id')
  assert.equal(presentedClientId(request({ client_id: 'body_id' }, { authorization: basicAuth('basic_id', 's') })), 'basic_id')
  assert.equal(presentedClientId(request({ client_id: 'body_id' }, { authorization: 'Bearer x' })), 'body_id')
  assert.equal(presentedClientId(request({ client_id: ['a', 'b'] })), null)
  assert.equal(presentedClientId(request({ client_id: 'x'.repeat(257) })), null)
  assert.equal(presentedClientId(request(grant)), null)
})
