import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authorizationServerMetadata } from './authorization-server-metadata.ts'
import { hashClientSecret } from './client-secret.ts'
import type { OAuthResponse } from './oauth-response.ts'
import { basicAuth, fastScrypt, issuer, oauthFixture, obtainToken, request } from './oauth-test-fixture.ts'
import { unwrapPrivateKey } from './signing-keys.ts'

test('no client secret, secret hash, private key or master key appears in any OAuth response', async () => {
  const fx = await oauthFixture()
  const previous = 'pcs_canary_previous_secret_0000000000000000000'
  const current = fx.clients.get(fx.clientId)
  assert.ok(current !== undefined)
  fx.clients.set(fx.clientId, { ...current, previousSecretHash: await hashClientSecret(previous, fastScrypt), previousExpiresAt: Date.now() + 60_000 })
  const oldKey = fx.signingKey
  const token = await obtainToken(fx)
  await fx.ring.rotate('ES256')
  const newKey = fx.ring.toStored()[0]
  assert.ok(newKey !== undefined)

  const basic = basicAuth(fx.clientId, fx.secret)
  const wrongBasic = basicAuth(fx.clientId, fx.secret.slice(0, -1))
  const grant = { grant_type: 'client_credentials' }
  const responses: OAuthResponse[] = [
    await fx.token(request(grant, { authorization: basic })),
    await fx.token(request(grant, { authorization: basicAuth(fx.clientId, previous) })),
    await fx.token(request({ ...grant, client_id: fx.clientId, client_secret: fx.secret })),
    await fx.token(request({ ...grant, client_id: fx.clientId, client_secret: fx.secret }, { authorization: basic })),
    await fx.token(request({ ...grant, scope: 'admin ' + fx.secret }, { authorization: basic })),
    await fx.token(request({ grant_type: fx.secret }, { authorization: basic })),
    await fx.token(request(grant, { authorization: wrongBasic })),
    await fx.token(request(grant, { authorization: 'Bearer ' + fx.secret })),
    await fx.introspect(request({ token }, { authorization: basic })),
    await fx.introspect(request({ token: fx.secret }, { authorization: basic })),
    await fx.introspect(request({ token }, { authorization: wrongBasic })),
    await fx.revoke(request({ token: fx.secret }, { authorization: basic })),
    await fx.revoke(request({ token }, { authorization: wrongBasic })),
    await fx.revoke(request({ token }, { authorization: basic }))
  ]
  const published = JSON.stringify([fx.ring.jwks(), authorizationServerMetadata({ issuer, scopesSupported: ['chat'] })])
  const everything = published + JSON.stringify(responses)

  const canaries = [
    fx.secret, fx.secret.slice(4), previous, current.secretHash,
    fx.masterKey.toString('base64'), fx.masterKey.toString('hex'), fx.masterKey.toString('base64url'),
    oldKey.wrappedPrivateKey, newKey.wrappedPrivateKey,
    String(unwrapPrivateKey(fx.masterKey, oldKey.kid, oldKey.wrappedPrivateKey).d),
    String(unwrapPrivateKey(fx.masterKey, newKey.kid, newKey.wrappedPrivateKey).d)
  ]
  for (const canary of canaries) assert.ok(!everything.includes(canary), 'a secret leaked into a response')
  assert.doesNotMatch(everything, /pcs_|"d":|scrypt\$/)
  assert.equal(responses[0]?.status, 200)
  assert.equal(responses[1]?.status, 200)
})
