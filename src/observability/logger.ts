import { pino, type Logger as PinoLogger } from 'pino'
import { redactCredentialShapes } from '../lib/credential-shapes.ts'

/**
 * The one redaction list. Field names that can hold a credential anywhere in a log object are
 * censored; request headers are never logged whole (see the `req` serializer). A canary test
 * plants secrets on every path and asserts none reaches the log.
 */
export const redactedPaths: readonly string[] = [
  'authorization', 'headers.authorization', 'headers["x-api-key"]', 'headers.cookie',
  'secret', 'api_key', 'apiKey', 'password', 'token', 'client_secret', 'master_key', 'admin_key',
  '*.authorization', '*.secret', '*.api_key', '*.apiKey', '*.password', '*.token', '*.client_secret',
  '*.master_key', '*.admin_key', '*.headers.authorization', '*.headers["x-api-key"]',
  // Node's HTTP parser errors carry the raw request bytes (credential headers included); Fastify
  // logs them at trace level as "client error" (found by test/integration/canary-every-path.test.ts).
  'rawPacket', '*.rawPacket'
]

interface RequestLike { method?: string, url?: string, id?: string }

/** Logs only the method and path: query strings and headers may carry credentials. */
function serializeRequest (req: RequestLike): object {
  const url = req.url ?? ''
  const q = url.indexOf('?')
  return { method: req.method, path: q === -1 ? url : url.slice(0, q), request_id: req.id }
}

/**
 * Values are redacted by field name above; caller-chosen strings logged under ordinary names
 * (a model name, a user agent) are scanned for credential shapes as well. Only top-level strings:
 * that is where request facts go, and nested objects are serializer output (`err`).
 */
function redactShapes (object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null
  for (const key in object) {
    const value = object[key]
    if (typeof value !== 'string') continue
    const redacted = redactCredentialShapes(value)
    if (redacted !== value) (copy ??= { ...object })[key] = redacted
  }
  return copy ?? object
}

export function createLogger (options: { level: string, destination?: NodeJS.WritableStream }): PinoLogger {
  return pino({
    level: options.level,
    base: { service: 'portcullis' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    formatters: { log: redactShapes },
    serializers: { req: serializeRequest, err: pino.stdSerializers.err }
  }, options.destination ?? pino.destination({ fd: 1, sync: false }))
}
