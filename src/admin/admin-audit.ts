import type { AuditFields } from '../audit/audit-chain.ts'
import type { Principal } from '../pipeline/context.ts'

/** How an admin route is named in its audit records, derived from the route table. */
export interface AdminAction {
  /** A readable verb: `keys.revoke`, `keys.create`, `clients.list`, `policies.update`. */
  readonly action: string
  /** The route template: `POST /admin/v1/keys/{id}/revoke`. */
  readonly route: string
}

/** What one admin request did, as `registerAdminRoutes` saw it. */
export interface AdminOutcome {
  readonly requestId: string
  readonly ip: string
  /** Null when authentication failed: nothing about the presented credential is recorded. */
  readonly principal: Principal | null
  readonly actor: string | null
  readonly action: AdminAction
  readonly params: Readonly<Record<string, string>>
  /** The handler's reply body (an object, before serialization); undefined when it threw. */
  readonly replyBody: unknown
  readonly status: number
  /** `success`, or the error `code` the caller received. */
  readonly outcome: string
}

const methodVerbs: Readonly<Record<string, readonly [collection: string, item: string]>> = {
  GET: ['list', 'get'],
  POST: ['create', 'update'],
  DELETE: ['delete', 'delete']
}

/**
 * `POST /keys/:id/revoke` → `keys.revoke`; `POST /keys` → `keys.create`; `GET /keys/:id` →
 * `keys.get`; `POST /policies/:id` → `policies.update`; `POST /signing-keys/rotate` →
 * `signing-keys.rotate`. Derived, not declared, so a new route cannot forget its name.
 */
export function adminAction (method: string, url: string): AdminAction {
  const parts = url.split('/').filter((part) => part !== '')
  const names = parts.filter((part) => !part.startsWith(':'))
  const last = parts.at(-1) ?? ''
  const verbs = methodVerbs[method] ?? [method.toLowerCase(), method.toLowerCase()]
  // A trailing literal after the resource (`revoke`, `rotate`) is itself the verb.
  const verb = names.length > 1 && !last.startsWith(':') ? null : last.startsWith(':') ? verbs[1] : verbs[0]
  const action = [...names, ...(verb === null ? [] : [verb])].join('.')
  const template = parts.map((part) => part.startsWith(':') ? `{${part.slice(1)}}` : part).join('/')
  return { action: action === '' ? method.toLowerCase() : action, route: `${method} /admin/v1/${template}` }
}

// Identifier fields of reply bodies, in order of preference. Deliberately a short allowlist:
// a create or rotate reply also holds the secret (`secret`, `client_secret`), which must never
// reach the log, so nothing else is ever read from a reply.
const replyIdFields = ['id', 'client_id', 'jti', 'kid'] as const
const maxTargetLength = 128
// What an id never looks like but a credential pasted into the path does: an API key (`pcl_`),
// a client secret (`pcs_`), a JWT (`eyJ` is base64url of `{"`).
const credentialShape = /^(?:pcl_|pcs_|eyJ)/

/**
 * What the request acted on: the first path parameter (`{id}`, `{model}`), else the id of what
 * the handler created or changed, from the allowlisted fields of its reply; null for a list.
 */
export function adminTarget (params: Readonly<Record<string, string>>, replyBody: unknown): string | null {
  const fromPath = Object.values(params)[0]
  if (typeof fromPath === 'string' && fromPath !== '') return recordableTarget(fromPath)
  if (typeof replyBody !== 'object' || replyBody === null) return null
  const body = replyBody as Record<string, unknown>
  for (const field of replyIdFields) {
    const value = body[field]
    if (typeof value === 'string' && value !== '') return recordableTarget(value)
  }
  return null
}

/**
 * A path parameter is whatever the caller typed, so a secret pasted in place of an id is
 * recorded as `redacted`, as is anything longer than an identifier or model name can be.
 */
function recordableTarget (value: string): string {
  return credentialShape.test(value) || value.length > maxTargetLength ? 'redacted' : value
}

/** The `code` of an error envelope as sent (`{"error":{"code":…}}`); `http_<status>` otherwise. */
export function errorCodeOf (payload: unknown, status: number): string {
  if (typeof payload === 'string' && payload.startsWith('{')) {
    try {
      const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code
      if (typeof code === 'string' && /^[a-z_]{1,64}$/.test(code)) return code
    } catch {}
  }
  return `http_${status}`
}

/** The `type: 'admin'` record of one admin request (docs/audit.md, "Admin actions"). */
export function adminRecord (outcome: AdminOutcome, now: Date = new Date()): AuditFields {
  const { principal } = outcome
  return {
    type: 'admin',
    timestamp_utc: now.toISOString(),
    request_id: outcome.requestId,
    actor: outcome.actor,
    principal: principal?.kind ?? null,
    tenant: principal?.tenant ?? null,
    ip: outcome.ip,
    action: outcome.action.action,
    route: outcome.action.route,
    target: adminTarget(outcome.params, outcome.replyBody),
    outcome: outcome.outcome,
    status: outcome.status
  }
}
