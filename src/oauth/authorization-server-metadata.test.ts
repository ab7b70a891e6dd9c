import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authorizationServerMetadata, checkIssuer } from './authorization-server-metadata.ts'

test('RFC 8414 metadata names every endpoint under the issuer and what they accept', () => {
  const metadata = authorizationServerMetadata({ issuer: 'https://gw.example.com/', scopesSupported: ['chat', 'embeddings'] })
  assert.deepEqual(metadata, {
    issuer: 'https://gw.example.com',
    token_endpoint: 'https://gw.example.com/oauth/token',
    jwks_uri: 'https://gw.example.com/.well-known/jwks.json',
    revocation_endpoint: 'https://gw.example.com/oauth/revoke',
    introspection_endpoint: 'https://gw.example.com/oauth/introspect',
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['chat', 'embeddings'],
    access_token_signing_alg_values_supported: ['EdDSA', 'ES256']
  })
  assert.ok(Object.isFrozen(metadata))
})

test('the issuer must be an https origin (http only on loopback), without path, query or fragment', () => {
  assert.equal(checkIssuer('http://127.0.0.1:8080'), 'http://127.0.0.1:8080')
  assert.equal(checkIssuer('http://localhost:8080/'), 'http://localhost:8080')
  assert.equal(checkIssuer('HTTPS://GW.Example.com:443'), 'https://gw.example.com')
  for (const bad of ['http://gw.example.com', 'https://gw.example.com/auth', 'https://gw.example.com/?a=1', 'https://gw.example.com/?',
    'https://gw.example.com/#x', 'https://user:pw@gw.example.com', 'gw.example.com', 'ftp://gw.example.com']) {
    assert.throws(() => checkIssuer(bad), /OAuth issuer/, bad)
  }
})
