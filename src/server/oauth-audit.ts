import type { AuditFields } from '../audit/audit-chain.ts'
import { isClientId } from '../oauth/client-rules.ts'
import type { OAuthResponse } from '../oauth/oauth-response.ts'

/** One request to `/oauth/token`, `/oauth/revoke` or `/oauth/introspect`, as the edge saw it. */
export interface OAuthExchange {
  readonly requestId: string
  /** `/oauth/token`, … */
  readonly path: string
  readonly ip: string
  /** The client id the request named (Basic header or form), unchecked; null when none. */
  readonly clientId: string | null
  /** What was answered. */
  readonly response: OAuthResponse
}

const actions: Readonly<Record<string, string>> = {
  '/oauth/token': 'oauth.token',
  '/oauth/revoke': 'oauth.revoke',
  '/oauth/introspect': 'oauth.introspect'
}

/**
 * The presented id as recorded. An id that is not client-id-shaped may be a secret pasted into
 * the wrong field, so only its absence of shape is recorded (`malformed`), never its text.
 */
export function recordedClientId (clientId: string | null): string | null {
  if (clientId === null) return null
  return isClientId(clientId) ? clientId.slice(0, 64) : 'malformed'
}

/**
 * The `type: 'oauth'` record of one exchange (docs/audit.md): who asked, from where, what was
 * granted (scope, token `jti`) and the outcome. Never the form, a secret or a token.
 */
export function oauthRecord (exchange: OAuthExchange, now: Date = new Date()): AuditFields {
  const { response } = exchange
  const body = parseBody(response.body)
  const success = response.status < 400
  const error = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : `http_${response.status}`
  const granted = success && exchange.path === '/oauth/token' && typeof body.scope === 'string' ? body.scope.split(' ') : null
  return {
    type: 'oauth',
    timestamp_utc: now.toISOString(),
    request_id: exchange.requestId,
    actor: recordedClientId(exchange.clientId),
    ip: exchange.ip,
    action: actions[exchange.path] ?? 'oauth.other',
    route: `POST ${exchange.path}`,
    target: response.target ?? null,
    scopes: granted,
    outcome: success ? 'success' : error,
    status: response.status
  }
}

function parseBody (text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}
