import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { collectingEvidenceSink } from '../audit/evidence-sink.ts'
import { createFailedAuthThrottle } from '../auth/failed-auth-throttle.ts'
import { createClientIpResolver } from '../edge/client-ip.ts'
import { authorizationServerMetadata } from '../oauth/authorization-server-metadata.ts'
import { oauthError, oauthJson, type OAuthResponse } from '../oauth/oauth-response.ts'
import { recordedClientId } from './oauth-audit.ts'
import { registerOAuthRoutes } from './oauth-routes.ts'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

/** The OAuth scope with stand-in endpoints: what is recorded depends only on what they answer. */
async function app (t: TestContext, answers: { token?: () => Promise<OAuthResponse> } = {}) {
  const audit = collectingEvidenceSink()
  let calls = 0
  const server = Fastify()
  await registerOAuthRoutes(server, {
    tokenEndpoint: async () => {
      calls += 1
      return await (answers.token ?? (async () => ({ ...oauthJson(200, { access_token: 'eyJ.secret.token', token_type: 'Bearer', scope: 'chat models:read' }), target: 'jti-1' })))()
    },
    revocationEndpoint: async () => oauthError('invalid_client', 'Client authentication failed.'),
    introspectionEndpoint: async () => ({ ...oauthJson(200, { active: true }), target: 'jti-2' }),
    metadata: authorizationServerMetadata({ issuer: 'http://127.0.0.1', scopesSupported: ['chat'] }),
    jwks: () => ({ keys: [] }),
    throttle: createFailedAuthThrottle({ maxFailures: 100, windowSeconds: 60, cooldownSeconds: 30 }),
    resolveClientIp: createClientIpResolver([]),
    audit
  })
  t.after(() => server.close())
  const post = async (url: string, payload: string) => await server.inject({ method: 'POST', url, headers: form, payload })
  return { audit, post, calls: () => calls }
}

test('a client id that is not shaped like one (maybe a pasted secret) is recorded as malformed', () => {
  assert.equal(recordedClientId('cli_0123456789abcdef'), 'cli_0123456789abcdef')
  assert.equal(recordedClientId('pcs_' + 'a'.repeat(40)), 'malformed')
  assert.equal(recordedClientId(null), null)
})

test('oauth records: granted scopes and the jti, never the token; failures with their OAuth error', async (t) => {
  const h = await app(t)
  await h.post('/oauth/token', 'grant_type=client_credentials&client_id=cli_0123456789abcdef&client_secret=pcs_x')
  await h.post('/oauth/revoke', 'token=abc&client_id=cli_0123456789abcdef&client_secret=pcs_x')
  await h.post('/oauth/introspect', 'token=abc&client_id=cli_0123456789abcdef&client_secret=pcs_x')
  const shape = h.audit.records.map((r) => [r.type, r.action, r.actor, r.target, r.scopes, r.outcome, r.status])
  assert.deepEqual(shape, [
    ['oauth', 'oauth.token', 'cli_0123456789abcdef', 'jti-1', ['chat', 'models:read'], 'success', 200],
    ['oauth', 'oauth.revoke', 'cli_0123456789abcdef', null, null, 'invalid_client', 401],
    ['oauth', 'oauth.introspect', 'cli_0123456789abcdef', 'jti-2', null, 'success', 200]
  ])
  assert.ok(!JSON.stringify(h.audit.records).includes('secret.token'))
  assert.ok(!JSON.stringify(h.audit.records).includes('pcs_x'))
})

test('an endpoint that throws is recorded as the caller sees it (server_error)', async (t) => {
  const h = await app(t, { token: async () => { throw new Error('store down') } })
  const res = await h.post('/oauth/token', 'grant_type=client_credentials')
  assert.equal(res.statusCode, 500)
  assert.deepEqual(h.audit.records.map((r) => [r.outcome, r.status]), [['server_error', 500]])
})

test('fail closed: with the audit log down, no token is issued and the refusal is recorded', async (t) => {
  const h = await app(t)
  h.audit.healthy = false
  const res = await h.post('/oauth/token', 'grant_type=client_credentials&client_id=cli_0123456789abcdef&client_secret=pcs_x')
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().error, 'temporarily_unavailable')
  assert.equal(h.calls(), 0, 'the token endpoint never ran')
  assert.deepEqual(h.audit.records.map((r) => [r.action, r.outcome]), [['oauth.token', 'temporarily_unavailable']])
})
