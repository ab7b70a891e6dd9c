import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { adminScopes, oauthScopes } from '../../src/auth/scopes.ts'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// Authorisation of every admin route, driven by the gateway's own route table so that a route
// added later is covered without touching this file (issue 3, points 7 and 9).

interface Route { readonly method: string, readonly url: string, readonly scope: string }
interface Reply { readonly status: number, readonly body: any }

// The resources an `:id` route may name, and an id of the right form that exists nowhere.
const resources = [
  { prefix: '/admin/v1/keys/:id', missing: 'key_AAAAAAAAAAAAAAAA' },
  { prefix: '/admin/v1/clients/:id', missing: 'cli_AAAAAAAAAAAAAAAA' },
  { prefix: '/admin/v1/policies/:id', missing: 'pol_AAAAAAAAAAAAAAAA' },
  { prefix: '/admin/v1/prices/:model', missing: 'no-such-model' }
] as const
// What the built-in roles grant of the admin scopes, as documented (src/auth/roles.ts). Written
// out rather than imported so that a role silently gaining a scope fails here.
const roleAdminScopes: Record<string, readonly string[]> = {
  'tenant-admin': ['admin:keys', 'admin:clients', 'admin:audit', 'admin:usage'],
  developer: ['admin:usage'],
  auditor: ['admin:audit', 'admin:usage', 'metrics:read']
}

let gw: TestGateway
let routes: readonly Route[]
const byScope = new Map<string, string>()

before(async () => {
  // Dozens of deliberate invalid keys from 127.0.0.1 must not trip the brute-force lockout.
  gw = await startTestGateway({ logLevel: 'warn', config: { auth: { brute_force: { max_failures: 10_000 } } } })
  routes = gw.gateway.adminRoutes
  for (const scope of [...adminScopes, ...oauthScopes]) {
    byScope.set(scope, (await gw.createKey({ name: `only-${scope}`, scopes: [scope] })).secret)
  }
})
after(async () => { await gw?.close() })

async function call (g: TestGateway, method: string, path: string, credential: string | null, body?: unknown): Promise<Reply> {
  const payload = body ?? (method === 'POST' ? {} : undefined)
  const res = await fetch(g.url + path, {
    method,
    headers: {
      ...(credential === null ? {} : { authorization: `Bearer ${credential}` }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' })
    },
    body: payload === undefined ? undefined : JSON.stringify(payload)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

function resourceOf (route: Route): typeof resources[number] | null {
  return resources.find((r) => route.url.startsWith(r.prefix)) ?? null
}

/** The route's path with a well-formed id that names nothing. */
function samplePath (route: Route, id?: string): string {
  return route.url.replace(/:\w+/, id ?? resourceOf(route)?.missing ?? 'x')
}

function label (route: Route): string {
  return `${route.method} ${route.url}`
}

function assertRefused (reply: Reply, status: number, code: string, what: string): void {
  assert.equal(reply.status, status, `${what}: ${JSON.stringify(reply.body)}`)
  assert.equal(reply.body?.error?.code, code, what)
}

/** Past authorisation: whatever the handler makes of a made-up id or body, never 401/403/5xx. */
function assertAuthorised (reply: Reply, route: Route, what: string): void {
  assert.ok(![401, 403].includes(reply.status) && reply.status < 500, `${what}: ${reply.status} ${JSON.stringify(reply.body)}`)
  // A 404 is fair only for an id that names nothing; without one it means the route is not there.
  if (!route.url.includes(':')) assert.notEqual(reply.status, 404, what)
}

async function token (g: TestGateway, clientId: string, secret: string): Promise<string> {
  const res = await fetch(g.url + '/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')
    },
    body: 'grant_type=client_credentials'
  })
  const json = await res.json() as { access_token?: string }
  assert.equal(res.status, 200, JSON.stringify(json))
  return json.access_token as string
}

async function createClient (credential: string, body: Record<string, unknown>): Promise<{ id: string, secret: string }> {
  const reply = await call(gw, 'POST', '/admin/v1/clients', credential, { name: 'test-client', ...body })
  assert.equal(reply.status, 201, JSON.stringify(reply.body))
  return { id: reply.body.id, secret: reply.body.client_secret }
}

test('the route table is non-empty, every route declares an admin scope, and every :id names a known resource', () => {
  assert.ok(routes.length > 0)
  for (const route of routes) {
    assert.ok((adminScopes as readonly string[]).includes(route.scope), `${label(route)} scope "${route.scope}"`)
    assert.match(route.url, /^\/admin\/v1\//, label(route))
    assert.ok((route.url.match(/:\w+/g) ?? []).length <= 1, `${label(route)}: one path parameter at most`)
    if (route.url.includes(':')) assert.notEqual(resourceOf(route), null, `${label(route)}: add its resource to this test`)
  }
  for (const known of ['GET /admin/v1/keys', 'POST /admin/v1/keys', 'GET /admin/v1/clients', 'GET /admin/v1/signing-keys']) {
    assert.ok(routes.some((r) => label(r) === known), known)
  }
})

test('every route: no credentials → 401, an invalid key → 401, a proxy-only key → 403', async () => {
  const proxy = (await gw.createKey({ name: 'proxy', scopes: ['chat'] })).secret
  // A real key with its checksum broken: well-formed, so it reaches the key lookup.
  const invalid = proxy.slice(0, -1) + (proxy.endsWith('A') ? 'B' : 'A')
  for (const route of routes) {
    assertRefused(await call(gw, route.method, samplePath(route), null), 401, 'missing_credentials', label(route))
    assertRefused(await call(gw, route.method, samplePath(route), invalid), 401, 'invalid_api_key', label(route))
    assertRefused(await call(gw, route.method, samplePath(route), proxy), 403, 'insufficient_scope', label(route))
  }
})

test('every route: its exact scope and `admin` pass, every other scope is 403', async () => {
  for (const route of routes) {
    for (const [scope, secret] of byScope) {
      const reply = await call(gw, route.method, samplePath(route), secret)
      const what = `${label(route)} with ${scope}`
      if (scope === route.scope || scope === 'admin') assertAuthorised(reply, route, what)
      else assertRefused(reply, 403, 'insufficient_scope', what)
    }
  }
})

test('an OAuth access token with admin:keys administers keys and nothing else', async () => {
  const client = await createClient(gw.adminKey, { scopes: ['admin:keys'] })
  const accessToken = await token(gw, client.id, client.secret)
  for (const route of routes) {
    const reply = await call(gw, route.method, samplePath(route), accessToken)
    if (route.scope === 'admin:keys') assertAuthorised(reply, route, `${label(route)} with token`)
    else assertRefused(reply, 403, 'insufficient_scope', `${label(route)} with token`)
  }
})

test('tenant isolation: another tenant\'s (or no tenant\'s) object is a 404 like a missing one, and stays untouched', async () => {
  const acme = (await gw.createKey({ name: 'acme-admin', tenant: 'acme', scopes: [], roles: ['tenant-admin'] })).secret
  const targets: Record<string, string[]> = { '/admin/v1/keys/:id': [], '/admin/v1/clients/:id': [] }
  const proofs: Array<() => Promise<void>> = []
  for (const tenant of ['globex', null]) {
    const key = await gw.createKey({ name: 'victim', tenant, scopes: ['models:read'] })
    const client = await createClient(gw.adminKey, { tenant, scopes: ['models:read'] })
    const issued = await token(gw, client.id, client.secret)
    targets['/admin/v1/keys/:id']?.push(key.id)
    targets['/admin/v1/clients/:id']?.push(client.id)
    const before = [await call(gw, 'GET', `/admin/v1/keys/${key.id}`, gw.adminKey), await call(gw, 'GET', `/admin/v1/clients/${client.id}`, gw.adminKey)]
    proofs.push(async () => {
      const now = [await call(gw, 'GET', `/admin/v1/keys/${key.id}`, gw.adminKey), await call(gw, 'GET', `/admin/v1/clients/${client.id}`, gw.adminKey)]
      assert.deepEqual(now, before, `${tenant} objects unchanged`)
      // Not revoked or rotated; the client not rotated, disabled, deleted, nor its tokens revoked.
      assert.equal((await call(gw, 'GET', '/v1/models', key.secret)).status, 200)
      assert.equal((await call(gw, 'GET', '/v1/models', issued)).status, 200)
      assert.equal((await call(gw, 'GET', '/v1/models', await token(gw, client.id, client.secret))).status, 200)
    })
  }
  let checked = 0
  // Routes the tenant admin's scopes reach; the others are 403 for it, shown by the role test.
  const reachable = routes.filter((r) => r.url.includes(':id') && roleAdminScopes['tenant-admin']?.includes(r.scope))
  for (const route of reachable) {
    const resource = resourceOf(route)
    assert.ok(resource !== null, label(route))
    const missing = await call(gw, route.method, samplePath(route), acme)
    assertRefused(missing, 404, 'not_found', `${label(route)} missing id`)
    for (const id of targets[resource.prefix] ?? []) {
      assert.deepEqual(await call(gw, route.method, samplePath(route, id), acme), missing, `${label(route)} on ${id}`)
      checked++
    }
  }
  assert.ok(checked >= 4, 'keys and clients routes were exercised')
  for (const prove of proofs) await prove()
})

test('tenant isolation: lists show only the own tenant, another tenant is 403, creation lands in the own tenant', async () => {
  const acme = (await gw.createKey({ name: 'acme-admin', tenant: 'acme', scopes: [], roles: ['tenant-admin'] })).secret
  const collections = [
    { url: '/admin/v1/keys', body: { name: 'acme-app', scopes: ['chat'] } },
    { url: '/admin/v1/clients', body: { name: 'acme-app', scopes: ['chat'] } }
  ]
  for (const { url, body } of collections) {
    assert.ok(routes.some((r) => r.method === 'GET' && r.url === url) && routes.some((r) => r.method === 'POST' && r.url === url), url)
    const foreign = await call(gw, 'POST', url, gw.adminKey, { ...body, tenant: 'globex' })
    assert.equal(foreign.status, 201, JSON.stringify(foreign.body))
    assertRefused(await call(gw, 'POST', url, acme, { ...body, tenant: 'globex' }), 403, 'forbidden', `${url} create in globex`)
    const created = await call(gw, 'POST', url, acme, body)
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.body.tenant, 'acme')
    assert.equal((await call(gw, 'GET', `${url}/${created.body.id}`, acme)).status, 200, `${url}/:id own object`)

    const list = await call(gw, 'GET', `${url}?limit=100`, acme)
    assert.equal(list.status, 200)
    assert.ok(list.body.data.length > 0)
    assert.deepEqual([...new Set(list.body.data.map((o: { tenant: string }) => o.tenant))], ['acme'], url)
    assert.ok(list.body.data.some((o: { id: string }) => o.id === created.body.id), `${url} lists the new object`)
    assert.ok(!list.body.data.some((o: { id: string }) => o.id === foreign.body.id), `${url} hides globex`)
    assertRefused(await call(gw, 'GET', `${url}?tenant=globex`, acme), 403, 'forbidden', `${url}?tenant=globex`)
    // The operator does see globex: the filter above is the tenant's, not a broken list.
    const all = await call(gw, 'GET', `${url}?tenant=globex&limit=100`, gw.adminKey)
    assert.ok(all.body.data.some((o: { id: string }) => o.id === foreign.body.id), `${url} operator sees globex`)
  }
})

test('roles: tenant-admin, developer and auditor reach exactly the routes their scopes allow', async () => {
  for (const [role, granted] of Object.entries(roleAdminScopes)) {
    const secret = (await gw.createKey({ name: role, tenant: 'acme', scopes: [], roles: [role] })).secret
    for (const route of routes) {
      const reply = await call(gw, route.method, samplePath(route), secret)
      if (granted.includes(route.scope)) assertAuthorised(reply, route, `${label(route)} as ${role}`)
      else assertRefused(reply, 403, 'insufficient_scope', `${label(route)} as ${role}`)
    }
  }
  assert.ok(routes.some((r) => r.scope === 'admin:config'), 'signing-key routes are refused to tenant-admin above')
})

test('roles: an auditor cannot create keys, a developer can call the proxy', async () => {
  const auditor = (await gw.createKey({ name: 'auditor', scopes: [], roles: ['auditor'] })).secret
  const before = (await call(gw, 'GET', '/admin/v1/keys?limit=100', gw.adminKey)).body.data.length
  assertRefused(await call(gw, 'POST', '/admin/v1/keys', auditor, { name: 'by-auditor', scopes: ['chat'] }), 403, 'insufficient_scope', 'auditor creates')
  assert.equal((await call(gw, 'GET', '/admin/v1/keys?limit=100', gw.adminKey)).body.data.length, before)

  const developer = (await gw.createKey({ name: 'developer', scopes: [], roles: ['developer'] })).secret
  assert.equal((await call(gw, 'GET', '/v1/models', developer)).status, 200)
  const chat = await call(gw, 'POST', '/v1/chat/completions', developer, { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] })
  assert.equal(chat.status, 200, JSON.stringify(chat.body))
})

test('roles: auth.roles in the config defines a role that can list keys, and nothing more', async () => {
  // Without the config the role does not exist.
  const unknown = await call(gw, 'POST', '/admin/v1/keys', gw.adminKey, { name: 'ops', scopes: [], roles: ['ops'] })
  assertRefused(unknown, 400, 'invalid_request', 'unknown role ops')
  const ops = await startTestGateway({ logLevel: 'warn', config: { auth: { roles: { ops: ['admin:keys'] } } } })
  try {
    const secret = (await ops.createKey({ name: 'ops', scopes: [], roles: ['ops'] })).secret
    const list = await call(ops, 'GET', '/admin/v1/keys', secret)
    assert.equal(list.status, 200, JSON.stringify(list.body))
    assert.ok(list.body.data.length > 0)
    assertRefused(await call(ops, 'GET', '/admin/v1/clients', secret), 403, 'insufficient_scope', 'ops lists clients')
  } finally {
    await ops.close()
  }
})

test('signing keys serve every tenant: a tenant-bound credential is refused even with admin:config', async () => {
  const tenantConfig = (await gw.createKey({ name: 'acme-config', tenant: 'acme', scopes: ['admin:config'] })).secret
  const signing = routes.filter((r) => r.url.startsWith('/admin/v1/signing-keys'))
  assert.ok(signing.length >= 2)
  const before = await call(gw, 'GET', '/admin/v1/signing-keys', gw.adminKey)
  for (const route of signing) assertRefused(await call(gw, route.method, route.url, tenantConfig), 403, 'forbidden', label(route))
  assert.deepEqual(await call(gw, 'GET', '/admin/v1/signing-keys', gw.adminKey), before, 'nothing was rotated')
})
