import { GatewayError } from '../errors/gateway-error.ts'
import type { Logger } from '../pipeline/context.ts'

/**
 * Finds our provider key in text an upstream sent back. Debugging proxies, echo services behind a
 * mistyped `base_url` and error pages that quote the request return the `Authorization` header
 * they received; passed on, that hands the provider key to the caller. Every upstream text that
 * can reach a caller (a success body, each stream event, an error `param`) is checked first.
 * Returns null when the upstream has no key (nothing to find).
 */
export function createKeyEchoCheck (apiKey: string | null): ((text: string) => boolean) | null {
  // Too short a key would match by chance; config requires real keys, this is only a guard.
  if (apiKey === null || apiKey.length < 8) return null
  return (text) => text.includes(apiKey)
}

/**
 * The answer that replaces an upstream response carrying the key: a plain 502 (or an error event
 * after the stream started). The log names the upstream and the request, never the text.
 */
export function keyEchoError (upstream: string, requestId: string, log?: Logger): GatewayError {
  log?.warn({ upstream, request_id: requestId }, 'the upstream echoed the provider key in its answer: the answer was dropped')
  return new GatewayError('upstream_error', { cause: new Error(`upstream ${upstream} echoed the provider key`) })
}
