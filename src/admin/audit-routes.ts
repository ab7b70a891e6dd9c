import { z } from 'zod'
import type { AdminRoute } from './admin-routes.ts'
import type { AuditRecord } from '../audit/audit-chain.ts'
import type { AuditOrder, AuditSearchQuery, AuditSearchSource } from '../audit/audit-search.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { parseInput } from './parse-input.ts'
import { listTenant } from './tenant-scope.ts'

export interface AuditRoutesDeps {
  /** The segment files (embedded mode) or the PostgreSQL mirror (cluster mode). */
  readonly source: AuditSearchSource
}

/** The answer of `GET /admin/v1/audit`. */
export interface AuditPageJson {
  object: 'list'
  /** Records exactly as sealed (with `seq`, `prev`, `mac`): canonical JSON of each is the stored line. */
  data: AuditRecord[]
  has_more: boolean
  next_cursor: string | null
  /** An `asc` cursor after everything this answer saw: poll with it for newer records only. */
  follow_cursor: string
}

export const maxAuditPageSize = 1000
const defaultPageSize = 100

const text = z.string().min(1).max(256)
const auditQuery = z.strictObject({
  since: z.string().max(40).optional(),
  until: z.string().max(40).optional(),
  key: text.optional(),
  client: text.optional(),
  tenant: z.string().min(1).max(128).optional(),
  status: z.string().regex(/^[1-5]\d\d$/, 'must be an HTTP status (100 to 599)').transform(Number).optional(),
  error: z.string().regex(/^[a-z0-9_]{1,64}$/, 'must be an error code such as rate_limit_exceeded').optional(),
  ip: z.string().min(2).max(64).optional(),
  type: z.string().regex(/^[a-z_]{1,32}$/, 'must be a record type such as request, admin, oauth, retention').optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: z.string().regex(/^\d{1,4}$/, `must be an integer from 1 to ${maxAuditPageSize}`).transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(maxAuditPageSize, `must be at most ${maxAuditPageSize}`)).optional(),
  cursor: z.string().max(200).optional()
})

// ISO 8601 as RFC 3339 profiles it (§5.6): a date, or a date-time with `Z` or an offset.
const isoTime = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/

/** `since`/`until`: Unix seconds, or an ISO 8601 date or date-time with a zone; epoch ms out. */
function timeParam (value: string | undefined, param: string): number | undefined {
  if (value === undefined) return undefined
  const ms = /^\d{1,11}$/.test(value) ? Number(value) * 1000 : isoTime.test(value) ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(ms)) {
    throw new GatewayError('invalid_request', { param, message: `${param} must be Unix seconds or an ISO 8601 time with a zone (2025-01-31T00:00:00Z)` })
  }
  return ms
}

interface Cursor {
  readonly order: AuditOrder
  readonly pos: number
}

/**
 * Cursors are opaque to clients: base64url of the source kind, the order and a position. A cursor
 * of the other source (after a switch to PostgreSQL) or of the other order is refused, not
 * misread.
 */
export function encodeAuditCursor (kind: AuditSearchSource['kind'], order: AuditOrder, pos: number): string {
  return Buffer.from(JSON.stringify([kind, order, pos])).toString('base64url')
}

function decodeCursor (kind: AuditSearchSource['kind'], value: string): Cursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    parsed = null
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalidCursor()
  const [k, order, pos] = parsed as unknown[]
  if (k !== kind || (order !== 'asc' && order !== 'desc') || !Number.isSafeInteger(pos) || (pos as number) < 0) throw invalidCursor()
  return { order, pos: pos as number }
}

function invalidCursor (): GatewayError {
  return new GatewayError('invalid_request', { param: 'cursor', message: 'cursor must be a next_cursor or follow_cursor from an earlier answer of this gateway' })
}

/**
 * `GET /admin/v1/audit`: search the audit log by time, key, client, tenant, status, error code,
 * IP and record type, newest first (or `order=asc`, chain order), with cursor paging. A
 * tenant-bound caller sees only records of its own tenant.
 */
export function auditRoutes (deps: AuditRoutesDeps): AdminRoute[] {
  const { source } = deps
  return [
    {
      method: 'GET', url: '/audit', scope: 'admin:audit',
      async handler ({ query, principal }) {
        const q = parseInput(auditQuery, query)
        const tenant = listTenant(principal, q.tenant ?? null)
        const cursor = q.cursor === undefined ? null : decodeCursor(source.kind, q.cursor)
        if (cursor !== null && q.order !== undefined && q.order !== cursor.order) {
          throw new GatewayError('invalid_request', { param: 'order', message: `this cursor continues an order=${cursor.order} search` })
        }
        const order = cursor?.order ?? q.order ?? 'desc'
        const search: AuditSearchQuery = {
          order,
          limit: q.limit ?? defaultPageSize,
          ...(cursor === null ? {} : { after: cursor.pos }),
          ...defined({
            since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until'), apiKeyId: q.key, clientId: q.client,
            tenant: tenant ?? undefined, status: q.status, error: q.error, ip: q.ip, type: q.type
          })
        }
        const page = await source.search(search)
        const body: AuditPageJson = {
          object: 'list',
          data: page.records,
          has_more: page.hasMore,
          next_cursor: page.hasMore && page.next !== null ? encodeAuditCursor(source.kind, order, page.next) : null,
          follow_cursor: encodeAuditCursor(source.kind, 'asc', page.follow)
        }
        return { body }
      }
    }
  ]
}

/** The fields that are set (exactOptionalPropertyTypes: an absent filter is absent, not undefined). */
function defined<T extends Record<string, unknown>> (fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> }
}
