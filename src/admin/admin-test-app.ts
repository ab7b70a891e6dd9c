import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import type { TestContext } from 'node:test'
import type { KeyService } from '../auth/key-service.ts'
import type { AdminRoute } from './admin-routes.ts'
import { errorBody, toGatewayError } from '../errors/serialize-error.ts'
import { registerAdminRoutes } from './admin-routes.ts'
import { keyRoutes } from './keys-routes.ts'
import { createCredentialAuthenticator } from '../auth/credential-authenticator.ts'
import { createClientIpResolver } from '../edge/client-ip.ts'
import { collectingEvidenceSink, type EvidenceSink } from '../audit/evidence-sink.ts'

/**
 * Test support: a bare Fastify app with the admin routes (the key routes, plus `extra`) and the
 * same error envelope the server installs. `routes` receives every route the admin API registered;
 * `audit` the admin audit records.
 */
export async function createAdminTestApp (t: TestContext, keys: KeyService, routes: RouteOptions[] = [], extra: readonly AdminRoute[] = [], audit: EvidenceSink = collectingEvidenceSink()): Promise<FastifyInstance> {
  const app = Fastify()
  app.setErrorHandler((err, _request, reply) => {
    const e = toGatewayError(err)
    if (e.headers !== undefined) reply.headers(e.headers)
    reply.code(e.status).send(errorBody(e))
  })
  app.addHook('onRoute', (route) => { routes.push(route) })
  await registerAdminRoutes(app, {
    credentials: createCredentialAuthenticator({ keys, tokens: null, throttle: null }),
    resolveClientIp: createClientIpResolver([]),
    routes: [...keyRoutes(keys), ...extra],
    audit
  })
  t.after(() => app.close())
  return app
}

/** Creates API keys for the admin test harnesses: `mint(name, scopes, tenant?)` → the secret. */
export function keyMinter (keys: KeyService): (name: string, scopes: string[], tenant?: string | null) => Promise<string> {
  return async (name, scopes, tenant = null) => (await keys.create({ name, scopes, tenant })).secret
}
