import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError, isGatewayError } from '../errors/gateway-error.ts'
import { errorBody } from '../errors/serialize-error.ts'

/** Fastify's own errors (body parsing, limits) mapped to catalogue codes. */
const fastifyCodes: Record<string, () => GatewayError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new GatewayError('request_too_large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new GatewayError('unsupported_media_type'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new GatewayError('invalid_request', { message: 'The request body is empty.' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new GatewayError('invalid_request', { message: 'Content-Length does not match the body.' }),
  FST_ERR_BAD_URL: () => new GatewayError('invalid_request', { message: 'The URL is malformed.' })
}

/** Maps anything a route or hook threw to the catalogue, never exposing internals. */
export function toCatalogued (err: unknown): GatewayError {
  if (isGatewayError(err)) return err
  const code = (err as FastifyError | undefined)?.code
  const mapped = code === undefined ? undefined : fastifyCodes[code]
  if (mapped !== undefined) return mapped()
  const status = (err as FastifyError | undefined)?.statusCode
  if (status === 413) return new GatewayError('request_too_large')
  if (status === 415) return new GatewayError('unsupported_media_type')
  if (status !== undefined && status >= 400 && status < 500) return new GatewayError('invalid_request')
  return new GatewayError('internal_error', { cause: err })
}

/** The one place that serializes errors for Fastify-handled (non-pipeline) routes. */
export function handleError (err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const gatewayError = toCatalogued(err)
  // Read by the completion of refused proxy requests (refused-proxy-requests.ts).
  request.errorCode = gatewayError.code
  if (gatewayError.code === 'internal_error') request.log.error({ err }, 'unhandled error')
  if (gatewayError.headers !== undefined) reply.headers(gatewayError.headers)
  reply.code(gatewayError.status).type('application/json; charset=utf-8').send(errorBody(gatewayError))
}
