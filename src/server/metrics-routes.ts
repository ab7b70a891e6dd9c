import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger as PinoLogger } from 'pino'
import type { CredentialAuthenticator } from '../auth/credential-authenticator.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { hasScope } from '../auth/scopes.ts'
import { handleError } from './error-handler.ts'
import { addEdgeHeaders } from './security-headers.ts'

/** What the routes need from the metrics registry (observability/metrics-registry.ts). */
export interface MetricsSource {
  render (): Promise<string>
  readonly contentType: string
}

export interface MetricsRouteOptions {
  readonly metrics: MetricsSource
  readonly credentials: CredentialAuthenticator
  readonly resolveClientIp: ClientIpResolver
}

async function sendMetrics (metrics: MetricsSource, reply: FastifyReply): Promise<string> {
  const text = await metrics.render()
  reply.header('content-type', metrics.contentType)
  return text
}

/**
 * `GET /metrics` on the main listener: a credential with `metrics:read` (or `admin`), and no
 * tenant — the metrics describe every tenant's traffic, so a tenant-bound credential is refused
 * like the other operator-only resources. Authentication runs in `onRequest`, before anything
 * is rendered.
 */
export function registerMetricsRoute (app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics, credentials, resolveClientIp } = options
  app.get('/metrics', {
    onRequest: async function metricsAuth (request: FastifyRequest) {
      const ip = resolveClientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for'])
      const principal = await credentials.authenticate(request.headers, ip)
      if (!hasScope(principal.scopes, 'metrics:read')) throw new GatewayError('insufficient_scope')
      if (principal.tenant !== null) throw new GatewayError('forbidden', { message: 'Metrics cover every tenant: they are read by an operator (a credential without a tenant).' })
    }
  }, async (_request, reply) => await sendMetrics(metrics, reply))
}

export interface MetricsListenerOptions {
  readonly host: string
  readonly port: number
  readonly metrics: MetricsSource
  readonly logger: PinoLogger
}

export interface MetricsListener {
  readonly url: string
  readonly port: number
  close (): Promise<void>
}

/**
 * A separate listener that serves `GET /metrics` WITHOUT authentication, for a Prometheus that
 * scrapes over a private network and should hold no gateway credential. Whoever reaches this
 * address reads the metrics, so it binds to loopback unless told otherwise (docs/metrics.md).
 * It serves nothing else: every other path is 404 `not_found`.
 */
export async function startMetricsListener (options: MetricsListenerOptions): Promise<MetricsListener> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => 'req_' + randomUUID().replaceAll('-', ''),
    requestIdHeader: false,
    return503OnClosing: false,
    trustProxy: false
  })
  app.setErrorHandler(handleError)
  app.setNotFoundHandler(async () => { throw new GatewayError('not_found') })
  addEdgeHeaders(app)
  app.get('/metrics', async (_request, reply) => await sendMetrics(options.metrics, reply))
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/metrics',
    handler: async () => { throw new GatewayError('method_not_allowed', { headers: { allow: 'GET' } }) }
  })
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => { await app.close() }
  }
}
