import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import type { Endpoint, Principal, RequestContext } from '../pipeline/context.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { createCredentialAuthenticator } from './credential-authenticator.ts'
import { createAuthenticateStage, extractCredential } from './authenticate-stage.ts'
import { createAuthorizeStage } from './authorize-stage.ts'
import { silentLog, startKeyService } from './key-service-fixture.ts'

function context (headers: IncomingHttpHeaders, endpoint: Endpoint = 'chat.completions', model: string | null = null): RequestContext {
  const ctx = newRequestContext({
    requestId: 'req_test', endpoint, method: 'POST', headers, socketIp: '127.0.0.1',
    rawBody: null, signal: new AbortController().signal, log: silentLog
  })
  ctx.model = model
  return ctx
}

function principal (scopes: string[], models: string[] | null = null): Principal {
  return { kind: 'api_key', keyId: 'key_x', clientId: null, subject: null, tokenId: null, name: 'x', tenant: null, scopes: new Set(scopes), models, allowedIps: null }
}

async function rejectsWith (fn: () => unknown, code: string): Promise<void> {
  await assert.rejects(async () => { await fn() }, (err: unknown) => err instanceof GatewayError && err.code === code)
}

test('extractCredential reads Bearer (any case) first, then x-api-key, nothing else', () => {
  assert.equal(extractCredential({ authorization: 'Bearer abc' }), 'abc')
  assert.equal(extractCredential({ authorization: 'bearer  abc ' }), 'abc')
  assert.equal(extractCredential({ 'x-api-key': ' abc ' }), 'abc')
  assert.equal(extractCredential({ authorization: 'Bearer one', 'x-api-key': 'two' }), 'one')
  assert.equal(extractCredential({ authorization: 'Basic dXNlcjpwYXNz' }), null)
  assert.equal(extractCredential({ authorization: 'Bearer a b' }), null)
  assert.equal(extractCredential({ authorization: 'Bearer' }), null)
  assert.equal(extractCredential({ 'x-api-key': '' }), null)
  assert.equal(extractCredential({ cookie: 'api_key=abc', 'x-forwarded-api-key': 'abc' }), null)
})

test('the authenticate stage sets the principal, or refuses with the 401 codes', async (t) => {
  const { service } = await startKeyService(t)
  const { key, secret } = await service.create({ name: 'bot', scopes: ['chat'] })
  const stage = createAuthenticateStage({ credentials: createCredentialAuthenticator({ keys: service, tokens: null, throttle: null }) })
  assert.equal(stage.name, 'authenticate')
  for (const headers of [{ authorization: `Bearer ${secret}` }, { 'x-api-key': secret }]) {
    const ctx = context(headers)
    await stage.onRequest?.(ctx)
    assert.equal(ctx.principal?.keyId, key.id)
  }
  await rejectsWith(() => stage.onRequest?.(context({})), 'missing_credentials')
  await rejectsWith(() => stage.onRequest?.(context({ authorization: 'Bearer pcl_nope' })), 'invalid_api_key')
  await service.revoke(key.id)
  await rejectsWith(() => stage.onRequest?.(context({ 'x-api-key': secret })), 'revoked_credentials')
  assert.throws(() => createAuthenticateStage({ credentials: {} as never }), /credentials.authenticate/)
})

test('the authorize stage maps each endpoint to its scope', async () => {
  const stage = createAuthorizeStage()
  assert.equal(stage.name, 'authorize')
  const allowed: Array<[Endpoint, string]> = [['chat.completions', 'chat'], ['completions', 'completions'],
    ['embeddings', 'embeddings'], ['models', 'models:read'], ['models', 'chat'], ['models', 'embeddings']]
  for (const [endpoint, scope] of allowed) {
    const ctx = context({}, endpoint)
    ctx.principal = principal([scope])
    await stage.onRequest?.(ctx)
  }
  const refused: Array<[Endpoint, string[]]> = [['chat.completions', ['embeddings', 'models:read']],
    ['completions', ['chat']], ['embeddings', ['chat']], ['models', ['admin']], ['chat.completions', ['admin', 'admin:keys']]]
  for (const [endpoint, scopes] of refused) {
    const ctx = context({}, endpoint)
    ctx.principal = principal(scopes)
    await rejectsWith(() => stage.onRequest?.(ctx), 'insufficient_scope')
  }
  await rejectsWith(() => stage.onRequest?.(context({})), 'missing_credentials')
})

test('the authorize stage enforces the model allowlist (exact and trailing *)', async () => {
  const stage = createAuthorizeStage()
  const check = async (models: string[] | null, model: string | null): Promise<void> => {
    const ctx = context({}, 'chat.completions', model)
    ctx.principal = principal(['chat'], models)
    await stage.onRequest?.(ctx)
  }
  await check(['gpt-4o-mini', 'qwen2.5-*'], 'gpt-4o-mini')
  await check(['gpt-4o-mini', 'qwen2.5-*'], 'qwen2.5-72b')
  await check(null, 'anything')
  await check([], null)
  await rejectsWith(() => check(['gpt-4o-mini', 'qwen2.5-*'], 'gpt-4o'), 'model_not_allowed')
  await rejectsWith(() => check(['gpt-4o-mini'], 'gpt-4o-mini-2024'), 'model_not_allowed')
  await rejectsWith(() => check([], 'gpt-4o-mini'), 'model_not_allowed')
})
