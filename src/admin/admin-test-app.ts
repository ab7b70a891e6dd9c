import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import type { TestContext } from 'node:test'
import type { KeyService } from '../auth/key-service.ts'
import { errorBody, toGatewayError } from '../errors/serialize-error.ts'
import { registerAdminRoutes } from './admin-routes.ts'

/**
 * Test support: a bare Fastify app with the admin routes and the same error envelope the
 * server installs. `routes` receives every route the admin API registered.
 */
export async function createAdminTestApp (t: TestContext, keys: KeyService, routes: RouteOptions[] = []): Promise<FastifyInstance> {
  const app = Fastify()
  app.setErrorHandler((err, _request, reply) => {
    const e = toGatewayError(err)
    reply.code(e.status).send(errorBody(e))
  })
  app.addHook('onRoute', (route) => { routes.push(route) })
  await registerAdminRoutes(app, { keys })
  t.after(() => app.close())
  return app
}
