import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { JSONWebKeySet } from 'jose'
import type { FailedAuthThrottle } from '../auth/failed-auth-throttle.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import { GatewayError, isGatewayError } from '../errors/gateway-error.ts'
import { oauthPaths } from '../oauth/authorization-server-metadata.ts'
import type { AuthorizationServerMetadata } from '../oauth/authorization-server-metadata.ts'
import { presentedClientId } from '../oauth/client-authentication.ts'
import { isClientId } from '../oauth/client-rules.ts'
import type { IntrospectionEndpoint } from '../oauth/introspection.ts'
import { oauthError, oauthJson } from '../oauth/oauth-response.ts'
import type { OAuthRequest, OAuthResponse } from '../oauth/oauth-response.ts'
import type { RevocationEndpoint } from '../oauth/revocation.ts'
import type { TokenEndpoint } from '../oauth/token-endpoint.ts'
import type { EvidenceSink } from '../audit/evidence-sink.ts'
import { oauthRecord } from './oauth-audit.ts'

export interface OAuthRouteDeps {
  readonly tokenEndpoint: TokenEndpoint
  readonly revocationEndpoint: RevocationEndpoint
  readonly introspectionEndpoint: IntrospectionEndpoint
  readonly metadata: AuthorizationServerMetadata
  /** The current RFC 7517 key set; called per request, so a rotation shows at once. */
  readonly jwks: () => JSONWebKeySet
  readonly throttle: FailedAuthThrottle
  readonly resolveClientIp: ClientIpResolver
  /** Every token, revocation and introspection request is recorded here (`type: 'oauth'`). */
  readonly audit: EvidenceSink
}

/** A form of client credentials, a scope and a token is far below this; more is not an OAuth request. */
export const oauthBodyLimitBytes = 16 * 1024

/** Every OAuth path and its methods, for `405` with `Allow` (RFC 9110 §15.5.6). */
export const oauthRouteMethods: ReadonlyMap<string, readonly string[]> = new Map([
  [oauthPaths.token, ['POST']],
  [oauthPaths.revocation, ['POST']],
  [oauthPaths.introspection, ['POST']],
  // Fastify answers HEAD for every GET route.
  [oauthPaths.jwks, ['GET', 'HEAD']],
  [oauthPaths.metadata, ['GET', 'HEAD']]
])

const formType = 'application/x-www-form-urlencoded'
// Public documents: caches may keep them a while. A resource server that meets an unknown kid
// right after a rotation refetches the JWKS rather than waiting for max-age to run out.
const publicCache = 'public, max-age=300'
type Form = Record<string, string | string[]>

/**
 * The authorization-server endpoints of docs/oauth.md, in their own scope: the only place that
 * parses `application/x-www-form-urlencoded`, and whose every error, Fastify's own included, is
 * in the RFC 6749 §5.2 format that OAuth clients parse rather than the OpenAI envelope.
 */
export async function registerOAuthRoutes (app: FastifyInstance, deps: OAuthRouteDeps): Promise<void> {
  await app.register(async function oauthScope (scope) {
    scope.setErrorHandler(handleOAuthError)
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(formType, { parseAs: 'string', bodyLimit: oauthBodyLimitBytes }, function formBody (_request, body, done) {
      done(null, parseForm(body as string))
    })
    const endpoints = [
      [oauthPaths.token, deps.tokenEndpoint],
      [oauthPaths.revocation, deps.revocationEndpoint],
      [oauthPaths.introspection, deps.introspectionEndpoint]
    ] as const
    for (const [url, endpoint] of endpoints) {
      scope.post(url, { bodyLimit: oauthBodyLimitBytes }, async (request, reply) => {
        writeOAuth(reply, await answerRecorded(request, endpoint, deps))
      })
    }
    scope.get(oauthPaths.jwks, async (_request, reply) => {
      // RFC 7517 §8.5 media type.
      reply.header('content-type', 'application/jwk-set+json').header('cache-control', publicCache)
      return JSON.stringify(deps.jwks())
    })
    // Serialised on first use: the issuer in it may be the listener's URL, known only after listen.
    let metadata: string | null = null
    scope.get(oauthPaths.metadata, async (_request, reply) => {
      reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', publicCache)
      metadata ??= JSON.stringify(deps.metadata)
      return metadata
    })
    registerOAuthMethodGuards(scope)
  })
}

type Endpoint = (request: OAuthRequest) => Promise<OAuthResponse>

/**
 * `answer`, with its audit record queued before the reply is written, whatever the outcome.
 * Fail closed like the admin API: no token is issued or revoked that the log cannot record.
 */
async function answerRecorded (request: FastifyRequest, endpoint: Endpoint, deps: OAuthRouteDeps): Promise<OAuthResponse> {
  const ip = deps.resolveClientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for'])
  const form = (request.body ?? null) as Form | null
  const clientId = form === null ? null : presentedClientId({ headers: request.headers, form, ip })
  const exchange = { requestId: request.id, path: request.routeOptions.url ?? '', ip, clientId }
  let response: OAuthResponse
  try {
    if (!deps.audit.accepting()) throw new GatewayError('service_unavailable')
    response = await answer(request, endpoint, deps, ip, clientId)
  } catch (err) {
    // Recorded as the caller will see it: the scope's error handler answers with this response.
    deps.audit.record(oauthRecord({ ...exchange, response: oauthErrorFor(err as FastifyError | GatewayError) }))
    throw err
  }
  deps.audit.record(oauthRecord({ ...exchange, response }))
  return response
}

async function answer (request: FastifyRequest, endpoint: Endpoint, deps: OAuthRouteDeps, ip: string, clientId: string | null): Promise<OAuthResponse> {
  // No body (and so no content type) reaches here without a parsed form.
  if (request.body === undefined || request.body === null) return wrongContentType()
  const oauthRequest: OAuthRequest = { headers: request.headers, form: request.body as Form, ip }
  // Checked before any scrypt: a source cooling down is refused even with the right secret, so
  // guessing cannot go on at full speed and a lucky guess during the cool-down is worth nothing.
  const retryAfter = deps.throttle.retryAfter(ip, clientId)
  if (retryAfter !== null) {
    return oauthJson(429, {
      error: 'too_many_failed_attempts',
      error_description: 'Too many failed client authentications. Retry after the time in the retry-after header.'
    }, { 'retry-after': String(retryAfter) })
  }
  const response = await endpoint(oauthRequest)
  // Every 401 of these endpoints is invalid_client (oauthError gives no other).
  if (response.status === 401) deps.throttle.fail(ip, clientId, 'invalid_client')
  // One line per OAuth request for the operator: who asked, from where, and the outcome; never
  // the form, a secret or a token. The audit log records the same as evidence (oauth-audit.ts).
  // A presented id that is not client-id-shaped may be a pasted secret: it is not logged.
  const loggedId = clientId === null ? null : isClientId(clientId) ? clientId : 'malformed'
  request.log.debug({ path: request.routeOptions.url, status: response.status, client_id: loggedId, client_ip: ip }, 'oauth request')
  return response
}

/**
 * RFC 6749 §3.2 / RFC 7009 §2.1 / RFC 7662 §2.1: the parameters come as a form. Parsed with
 * URLSearchParams (`+` is a space, a bad escape stays literal); a repeated key becomes an array,
 * which the endpoints refuse with `invalid_request`. No prototype, so `__proto__` is just a name.
 */
export function parseForm (text: string): Form {
  const form: Form = Object.create(null) as Form
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = form[key]
    if (seen === undefined) form[key] = value
    else if (Array.isArray(seen)) seen.push(value)
    else form[key] = [seen, value]
  }
  return form
}

function wrongContentType (): OAuthResponse {
  return oauthError('invalid_request', 'The request body must be application/x-www-form-urlencoded.')
}

function writeOAuth (reply: FastifyReply, response: OAuthResponse): void {
  reply.code(response.status).headers(response.headers).send(response.body)
}

function registerOAuthMethodGuards (scope: FastifyInstance): void {
  for (const [url, allowed] of oauthRouteMethods) {
    const others = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowed.includes(m))
    scope.route({
      method: others,
      url,
      // onRequest runs before the body is read, so a PUT with a JSON body still gets its 405.
      onRequest: async () => {
        throw new GatewayError('method_not_allowed', { headers: { allow: allowed.join(', ') } })
      },
      handler: async () => undefined
    })
  }
}

/** The scope's error handler: every error in the OAuth format, internals never exposed. */
function handleOAuthError (err: FastifyError | GatewayError, request: FastifyRequest, reply: FastifyReply): void {
  const response = oauthErrorFor(err)
  if (response.status === 500) request.log.error({ err }, 'unhandled error')
  writeOAuth(reply, response)
}

function oauthErrorFor (err: FastifyError | GatewayError): OAuthResponse {
  const status = isGatewayError(err) ? err.status : err.statusCode
  const headers = isGatewayError(err) ? err.headers : undefined
  if (!isGatewayError(err) && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return wrongContentType()
  if (status === 413) {
    return oauthJson(413, { error: 'invalid_request', error_description: `The request body is larger than ${oauthBodyLimitBytes} bytes.` })
  }
  if (status === 405) return oauthJson(405, { error: 'invalid_request', error_description: 'Method not allowed.' }, headers)
  if (status !== undefined && status >= 400 && status < 500) return oauthError('invalid_request', 'The request is malformed.')
  // RFC 6749 §4.1.2.1 names these two; OAuth clients know them from every endpoint.
  if (status === 503) {
    return oauthJson(503, { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' }, headers)
  }
  return oauthJson(500, { error: 'server_error', error_description: 'An internal error occurred.' })
}
