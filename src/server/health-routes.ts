import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../errors/gateway-error.ts'
import { errorBody } from '../errors/serialize-error.ts'

/** A readiness check: resolves when the dependency works, rejects when it does not. */
export type ReadinessCheck = () => Promise<void>

/** Liveness, readiness and robots.txt: the unauthenticated, non-proxy surface. */
export function registerHealthRoutes (app: FastifyInstance, checks: Readonly<Record<string, ReadinessCheck>>, isDraining: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (request, reply) => {
    const results: Record<string, 'ok' | 'down'> = {}
    await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await check()
        results[name] = 'ok'
      } catch (err) {
        request.log.warn({ err, check: name }, 'readiness check failed')
        results[name] = 'down'
      }
    }))
    const ready = !isDraining() && Object.values(results).every((r) => r === 'ok')
    if (ready) return { status: 'ready', checks: results }
    reply.code(503)
    return { ...errorBody(new GatewayError('service_unavailable')), status: isDraining() ? 'draining' : 'unavailable', checks: results }
  })

  app.get('/robots.txt', async (_request, reply) => {
    reply.type('text/plain; charset=utf-8')
    return 'User-agent: *\nDisallow: /\n'
  })
}
