import type { Stage } from '../pipeline/stage.ts'
import { parseStrictJson } from './parse-strict-json.ts'
import { readProxyRequest } from './read-proxy-request.ts'

/**
 * Parses the body strictly (duplicate keys refused) and reads the fields the gateway acts on.
 * Runs after authentication, so anonymous callers learn nothing about request validation.
 */
export function createRequestShapeStage (): Stage {
  return {
    name: 'request-shape',
    onRequest (ctx) {
      const parsed = ctx.rawBody === null ? null : parseStrictJson(ctx.rawBody)
      const facts = readProxyRequest(ctx.endpoint, parsed)
      ctx.body = facts.body
      ctx.model = facts.model
      ctx.stream = facts.stream
      ctx.clientWantsUsage = facts.clientWantsUsage
    }
  }
}
