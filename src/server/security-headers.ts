import type { FastifyInstance } from 'fastify'

/**
 * Headers on every response: API answers must never be cached by intermediaries or indexed by
 * crawlers, and browsers must not sniff JSON as HTML. No `Server` or `X-Powered-By` is sent.
 */
const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex, nofollow'
})

const securityHeaderEntries = Object.entries(securityHeaders)

/**
 * Adds the request id and the security headers to every Fastify reply of `app`; replies that a
 * route hijacks are written by the proxy sink, which adds the same (`edgeHeaders`). They join
 * the reply's own headers in its one `writeHead`: headers set on the raw response beforehand
 * would send every header of the response through Node's slower merge path (setHeader, lower-
 * casing and a merge per header). A route's own value of one of them (a cacheable JWKS) stands.
 */
export function addEdgeHeaders (app: FastifyInstance): void {
  app.addHook('onSend', function requestIdAndSecurityHeaders (request, reply, payload, done) {
    reply.header('x-request-id', request.id)
    for (const [name, value] of securityHeaderEntries) if (!reply.hasHeader(name)) reply.header(name, value)
    done(null, payload)
  })
}

/** The same headers for a response written outside Fastify, then `headers` (which win), then `last`. */
export function edgeHeaders (requestId: string, headers: Record<string, string>, last: Record<string, string | number>): Record<string, string | number> {
  return { 'x-request-id': requestId, ...securityHeaders, ...headers, ...last }
}
