import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Principal, RequestContext } from '../pipeline/context.ts'
import type { Provider } from './provider.ts'
import { createRouteStage } from './route-stage.ts'
import { compileModelRoutes } from './model-routes.ts'
import { buildUpstreams } from './build-upstreams.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { jsonOf, testContext } from './upstream-test-fixture.ts'

function fakeProvider (name: string, type: Provider['type']): Provider {
  return { name, type, send: async () => { throw new Error('not used') }, close: async () => {} }
}

const providers = new Map([['openai', fakeProvider('openai', 'openai')], ['local', fakeProvider('local', 'openai')], ['mock', fakeProvider('mock', 'mock')]])
const routes = compileModelRoutes([
  { name: 'gpt-*', upstream: 'openai' },
  { name: 'gpt-4o-mini-*', upstream: 'local', upstream_model: 'qwen2.5-7b' },
  { name: 'gpt-4o', upstream: 'local', upstream_model: 'llama-3.1-70b' },
  { name: 'mock-gpt', upstream: 'mock' }
])
const stage = createRouteStage({ routes, providers })

function route (model: string): RequestContext {
  const ctx = testContext({ model })
  stage.onRequest?.(ctx)
  return ctx
}

function principal (models: string[] | null): Principal {
  return { kind: 'api_key', keyId: 'k1', clientId: null, subject: null, tokenId: null, name: null, tenant: null, scopes: new Set(), models, allowedIps: null }
}

test('an exact name wins over any prefix, and the longest prefix wins over shorter ones', () => {
  assert.deepEqual({ ...route('gpt-4o').route, provider: undefined }, { upstream: 'local', upstreamModel: 'llama-3.1-70b', provider: undefined })
  assert.equal(route('gpt-4o-mini-2024').route?.upstreamModel, 'qwen2.5-7b')
  assert.equal(route('gpt-4o-mini-2024').route?.provider, providers.get('local'))
  const wildcard = route('gpt-3.5-turbo').route
  assert.equal(wildcard?.upstream, 'openai')
  assert.equal(wildcard?.upstreamModel, 'gpt-3.5-turbo', 'without upstream_model the caller\'s name is sent')
})

test('an unknown model is 404 model_not_found', () => {
  assert.throws(() => route('claude-3'), (err) => err instanceof GatewayError && err.code === 'model_not_found' && err.status === 404)
})

test('GET /v1/models lists the exact names the caller may use, mock models owned by portcullis-mock', () => {
  const all = testContext({ endpoint: 'models', method: 'GET' })
  stage.onRequest?.(all)
  const body = jsonOf(all.upstream ?? assert.fail('no answer')).body as { object: string, data: Array<{ id: string, owned_by: string }> }
  assert.equal(body.object, 'list')
  assert.deepEqual(body.data.map((m) => [m.id, m.owned_by]), [['gpt-4o', 'local'], ['mock-gpt', 'portcullis-mock']])

  const limited = testContext({ endpoint: 'models', method: 'GET', principal: principal(['mock-*']) })
  stage.onRequest?.(limited)
  const ids = (jsonOf(limited.upstream ?? assert.fail('no answer')).body as { data: Array<{ id: string }> }).data.map((m) => m.id)
  assert.deepEqual(ids, ['mock-gpt'])
})

test('the factory refuses routes to an upstream without a provider, and duplicate names', () => {
  assert.throws(() => createRouteStage({ routes: compileModelRoutes([{ name: 'x', upstream: 'ghost' }]), providers }), /ghost/)
  assert.throws(() => compileModelRoutes([{ name: 'x', upstream: 'mock' }, { name: 'x', upstream: 'mock' }]), /twice/)
})

test('with no upstream configured, the built-in mock serves mock-gpt, mock-embedding and mock-*', async () => {
  const built = await buildUpstreams({ upstreams: [], models: [] }, async () => { throw new Error('no secrets needed') })
  assert.deepEqual([...built.providers.keys()], ['mock'])
  const mockStage = createRouteStage(built)
  const models = testContext({ endpoint: 'models', method: 'GET' })
  mockStage.onRequest?.(models)
  const data = (jsonOf(models.upstream ?? assert.fail('no answer')).body as { data: Array<{ id: string, owned_by: string }> }).data
  assert.deepEqual(data.map((m) => [m.id, m.owned_by]), [['mock-gpt', 'portcullis-mock'], ['mock-embedding', 'portcullis-mock']])
  const other = testContext({ model: 'mock-anything' })
  mockStage.onRequest?.(other)
  assert.equal(other.route?.provider.type, 'mock')
})

test('buildUpstreams resolves the provider key through the resolver', async () => {
  const asked: unknown[] = []
  const built = await buildUpstreams({
    upstreams: [{ name: 'openai', type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: { env: 'OPENAI_KEY' }, timeouts: { connect_ms: 100, headers_ms: 100, idle_ms: 100 }, max_connections: null, mock: { latency_ms: 0, chunk_interval_ms: 0, failure_rate: 0 } }],
    models: [{ name: 'gpt-*', upstream: 'openai' }]
  }, async (ref) => { asked.push(ref); return 'sk-x' })
  assert.deepEqual(asked, [{ env: 'OPENAI_KEY' }])
  assert.equal(built.providers.get('openai')?.type, 'openai')
  await Promise.all([...built.providers.values()].map((p) => p.close()))
})
