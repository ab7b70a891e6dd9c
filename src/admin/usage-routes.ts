import { z } from 'zod'
import type { AdminRoute } from './admin-routes.ts'
import type { UsageQuery, UsageRow, UsageStore } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { parseInput } from './parse-input.ts'
import { listTenant } from './tenant-scope.ts'

export interface UsageRoutesDeps {
  readonly usage: UsageStore
  readonly now?: () => number
}

type Dimension = UsageQuery['groupBy'][number]

const dimensions: readonly Dimension[] = ['hour', 'key', 'client', 'tenant', 'model']
const defaultWindowMs = 24 * 3_600_000
const maxRows = 10_000

/** One row of `GET /admin/v1/usage`: dimensions not grouped by are null. */
export interface UsageRowJson {
  /** Unix seconds of the start of the UTC hour. */
  hour: number | null
  key_id: string | null
  client_id: string | null
  tenant: string | null
  model: string | null
  requests: number
  input_tokens: number
  output_tokens: number
  /** USD, rounded to 6 decimal places (the store counts whole micro-USD). */
  cost_usd: number
}

export interface UsageJson {
  object: 'list'
  /** The window actually queried, Unix seconds; `from` is rounded down to the hour. */
  from: number
  to: number
  group_by: Dimension[]
  data: UsageRowJson[]
  /** True when `limit` cut the list; `totals` still cover every row. */
  has_more: boolean
  totals: { requests: number, input_tokens: number, output_tokens: number, cost_usd: number }
}

const name = z.string().min(1).max(256)

const usageQuery = z.strictObject({
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  key: name.optional(),
  client: name.optional(),
  tenant: z.string().min(1).max(128).optional(),
  model: name.optional(),
  group_by: z.string().max(64).optional(),
  limit: z.string().regex(/^\d{1,5}$/, `must be an integer from 1 to ${maxRows}`).transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(maxRows, `must be at most ${maxRows}`)).optional()
})

// ISO 8601 as RFC 3339 profiles it (§5.6): a date, or a date-time with `Z` or an offset.
const isoTime = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/

/** `from`/`to`: Unix seconds, or an ISO 8601 date or date-time with a zone. */
function timeParam (value: string | undefined, param: string, fallback: number): number {
  if (value === undefined) return fallback
  const ms = /^\d{1,11}$/.test(value) ? Number(value) * 1000 : isoTime.test(value) ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(ms)) {
    throw new GatewayError('invalid_request', { param, message: `${param} must be Unix seconds or an ISO 8601 time with a zone (2025-01-31T00:00:00Z)` })
  }
  return ms
}

function groupByParam (value: string | undefined): Dimension[] {
  if (value === undefined) return ['model']
  const out: Dimension[] = []
  for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(dimensions as readonly string[]).includes(part)) {
      throw new GatewayError('invalid_request', { param: 'group_by', message: `group_by takes a comma-separated list of ${dimensions.join(', ')}` })
    }
    if (!out.includes(part as Dimension)) out.push(part as Dimension)
  }
  return out
}

const usd = (micro: number): number => Number((micro / 1_000_000).toFixed(6))

function rowJson (r: UsageRow): UsageRowJson {
  return {
    hour: r.hour === null ? null : Math.floor(r.hour / 1000),
    key_id: r.keyId,
    client_id: r.clientId,
    tenant: r.tenant,
    model: r.model,
    requests: r.requests,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cost_usd: usd(r.costMicroUsd)
  }
}

/**
 * `GET /admin/v1/usage`: requests, tokens and cost per hour, key, client, tenant and model, from
 * the hourly cells the usage recorder writes. A tenant-bound caller sees its own tenant only.
 */
export function usageRoutes (deps: UsageRoutesDeps): AdminRoute[] {
  const now = deps.now ?? Date.now
  return [
    {
      method: 'GET', url: '/usage', scope: 'admin:usage',
      async handler ({ query, principal }) {
        const q = parseInput(usageQuery, query)
        const tenant = listTenant(principal, q.tenant ?? null)
        const to = timeParam(q.to, 'to', now())
        const from = timeParam(q.from, 'from', to - defaultWindowMs)
        if (from >= to) throw new GatewayError('invalid_request', { param: 'from', message: 'from must be before to' })
        const groupBy = groupByParam(q.group_by)
        const limit = q.limit ?? 1_000
        const filter = {
          from, to,
          ...(q.key === undefined ? {} : { keyId: q.key }),
          ...(q.client === undefined ? {} : { clientId: q.client }),
          ...(tenant === null ? {} : { tenant }),
          ...(q.model === undefined ? {} : { model: q.model })
        }
        const [rows, totals] = await Promise.all([
          deps.usage.query({ ...filter, groupBy, limit: limit + 1 }),
          deps.usage.query({ ...filter, groupBy: [], limit: 1 })
        ])
        const sum = totals[0]
        const body: UsageJson = {
          object: 'list',
          from: Math.floor(from / 3_600_000) * 3_600,
          to: Math.floor(to / 1000),
          group_by: groupBy,
          data: rows.slice(0, limit).map(rowJson),
          has_more: rows.length > limit,
          totals: {
            requests: sum?.requests ?? 0,
            input_tokens: sum?.inputTokens ?? 0,
            output_tokens: sum?.outputTokens ?? 0,
            cost_usd: usd(sum?.costMicroUsd ?? 0)
          }
        }
        return { body }
      }
    }
  ]
}
