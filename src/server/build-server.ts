import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger as PinoLogger } from 'pino'
import type { Stage } from '../pipeline/stage.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { parseStrictJson } from '../edge/parse-strict-json.ts'
import { handleError } from './error-handler.ts'
import { registerProxyRoutes, proxyRoutes } from './proxy-routes.ts'
import { registerHealthRoutes, type ReadinessCheck } from './health-routes.ts'
import { addEdgeHeaders } from './security-headers.ts'
import { completeRefusedProxyRequests } from './refused-proxy-requests.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import { createLazyChildLogger } from '../observability/lazy-child-logger.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived. */
    startedAt: number
  }
}

export interface ServerOptions {
  readonly logger: PinoLogger
  readonly maxBodyBytes: number
  readonly keepAliveTimeoutMs: number
  readonly stages: readonly Stage[]
  /** Gives refused proxy requests (recorded without running the edge stage) their client IP. */
  readonly resolveClientIp?: ClientIpResolver
  readonly readiness: Readonly<Record<string, ReadinessCheck>>
  /** Registers `/admin/v1/…` routes; runs inside a scope that parses JSON strictly. */
  readonly registerAdmin?: (app: FastifyInstance) => void | Promise<void>
  /** Registers `/oauth/…` and `/.well-known/…`; they parse forms and answer in the OAuth error format. */
  readonly registerOAuth?: (app: FastifyInstance) => Promise<void>
  /** Registers `GET /metrics` (server/metrics-routes.ts); unset when metrics are disabled. */
  readonly registerMetrics?: (app: FastifyInstance) => void
}

export interface GatewayServer {
  readonly app: FastifyInstance
  /** From now on every new request gets 503 `service_unavailable` and /readyz reports draining. */
  startDraining (): void
}

/** Paths → allowed methods, for 405 answers with an `Allow` header (RFC 9110 §15.5.6). */
function registerMethodGuards (app: FastifyInstance, paths: ReadonlyMap<string, string[]>): void {
  for (const [url, allowed] of paths) {
    const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowed.includes(m))
    app.route({
      method: others,
      url,
      handler: async () => {
        throw new GatewayError('method_not_allowed', { headers: { allow: allowed.join(', ') } })
      }
    })
  }
}

export async function buildServer (options: ServerOptions): Promise<GatewayServer> {
  let draining = false
  const app = Fastify({
    // pino's Logger is Fastify's base logger; the cast only narrows Fastify's generic.
    loggerInstance: options.logger as FastifyBaseLogger,
    // The pipeline logs each request once (debug) and the audit log records it; Fastify's own
    // per-request lines would double the cost and log URLs.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, opts) => createLazyChildLogger(logger as unknown as PinoLogger, bindings, opts) as unknown as FastifyBaseLogger,
    genReqId: () => 'req_' + randomUUID().replaceAll('-', ''),
    requestIdHeader: false,
    bodyLimit: options.maxBodyBytes,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    return503OnClosing: false,
    trustProxy: false
  })
  app.decorateRequest('startedAt', 0)
  app.removeAllContentTypeParsers()
  app.setErrorHandler(handleError)
  completeRefusedProxyRequests(app, options.stages, options.resolveClientIp ?? null)
  app.setNotFoundHandler(async () => { throw new GatewayError('not_found') })

  app.addHook('onRequest', function arrival (request, reply, done) {
    request.startedAt = performance.now()
    if (draining) {
      reply.raw.setHeader('connection', 'close')
      done(new GatewayError('service_unavailable', { message: 'The gateway is shutting down.' }))
      return
    }
    done()
  })

  addEdgeHeaders(app)

  registerHealthRoutes(app, options.readiness, () => draining)
  await app.register(async function proxyScope (scope) {
    registerProxyRoutes(scope, options.stages)
  })
  if (options.registerAdmin !== undefined) {
    const registerAdmin = options.registerAdmin
    await app.register(async function adminScope (scope) {
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, function strictJson (_req, body, done) {
        try {
          done(null, body === '' ? {} : parseStrictJson(body as string))
        } catch (err) {
          done(err as Error, undefined)
        }
      })
      await registerAdmin(scope)
    })
  }
  if (options.registerOAuth !== undefined) await options.registerOAuth(app)
  const guarded = new Map<string, string[]>([['/healthz', ['GET']], ['/readyz', ['GET']], ['/robots.txt', ['GET']]])
  if (options.registerMetrics !== undefined) {
    options.registerMetrics(app)
    guarded.set('/metrics', ['GET'])
  }
  for (const r of proxyRoutes) guarded.set(r.url, [r.method])
  registerMethodGuards(app, guarded)

  return { app, startDraining () { draining = true } }
}
