import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Endpoint, Logger } from '../pipeline/context.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import type { Stage } from '../pipeline/stage.ts'
import { runPipeline } from '../pipeline/run-pipeline.ts'
import { HttpSink } from './http-sink.ts'

/** The OpenAI-compatible surface and the pipeline endpoint each path runs. */
export const proxyRoutes: ReadonlyArray<{ method: 'GET' | 'POST', url: string, endpoint: Endpoint }> = [
  { method: 'POST', url: '/v1/chat/completions', endpoint: 'chat.completions' },
  { method: 'POST', url: '/v1/completions', endpoint: 'completions' },
  { method: 'POST', url: '/v1/embeddings', endpoint: 'embeddings' },
  { method: 'GET', url: '/v1/models', endpoint: 'models' }
]

/**
 * Registers the proxy routes. The body is handed to the pipeline as text: the request-shape
 * stage parses it strictly after authentication. The response is written by the pipeline
 * (`reply.hijack()`), so Fastify's serializers stay out of the streaming path.
 */
export function registerProxyRoutes (app: FastifyInstance, stages: readonly Stage[]): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function keepText (_req, body, done) {
    done(null, body)
  })
  for (const route of proxyRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async function proxy (request: FastifyRequest, reply: FastifyReply) {
        const startedAt = request.startedAt
        reply.hijack()
        const res = reply.raw
        const controller = new AbortController()
        // A client that goes away before the end aborts the upstream request (and frees its slot).
        res.once('close', () => { if (!res.writableFinished) controller.abort() })
        const ctx = newRequestContext({
          requestId: request.id,
          endpoint: route.endpoint,
          method: request.method,
          headers: request.headers,
          socketIp: request.raw.socket.remoteAddress ?? '',
          rawBody: typeof request.body === 'string' ? request.body : null,
          signal: controller.signal,
          // Fastify types its request logger narrowly; at run time it is our lazy pino child
          // (observability/lazy-child-logger.ts), which has every Logger method.
          log: request.log as unknown as Logger,
          startedAt
        })
        await runPipeline(ctx, stages, new HttpSink(res, request.id))
      }
    })
  }
}
