import type { FastifyInstance } from 'fastify'
import type { ErrorCode } from '../errors/error-catalogue.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import type { Endpoint, Logger } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { completeStages } from '../pipeline/run-pipeline.ts'
import { proxyRoutes } from './proxy-routes.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The catalogue code the server's error handler answered with; null when it did not run. */
    errorCode: ErrorCode | null
  }
}

const endpointOf = new Map<string, Endpoint>(proxyRoutes.map((r) => [r.url, r.endpoint]))
// Never aborted: the client got its (error) response; nothing is left to cancel.
const settledSignal = new AbortController().signal

/**
 * A request to a proxy endpoint that Fastify refused before the pipeline ran (body too large,
 * wrong media type, bad Content-Length, wrong method, the gateway draining) still gets the
 * stages' completion phases, as if the first stage had refused it: one audit record and the
 * metrics for every proxy request, whatever stopped it. Runs after the response was sent.
 */
export function completeRefusedProxyRequests (app: FastifyInstance, stages: readonly Stage[], resolveClientIp: ClientIpResolver | null): void {
  app.decorateRequest('errorCode', null)
  app.addHook('onResponse', function completeRefused (request, reply, done) {
    const code = request.errorCode
    const endpoint = code === null ? undefined : endpointOf.get(request.routeOptions.url ?? '')
    if (endpoint === undefined) {
      done()
      return
    }
    const socketIp = request.raw.socket?.remoteAddress ?? ''
    const ctx = newRequestContext({
      requestId: request.id,
      endpoint,
      method: request.method,
      headers: request.headers,
      socketIp,
      rawBody: null,
      signal: settledSignal,
      log: request.log as unknown as Logger,
      startedAt: request.startedAt
    })
    if (resolveClientIp !== null) ctx.clientIp = resolveClientIp(socketIp, request.headers['x-forwarded-for'])
    ctx.status = reply.statusCode
    ctx.error = code
    completeStages(ctx, stages).then(() => { done() }, () => { done() })
  })
}
