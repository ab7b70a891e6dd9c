import type { BudgetPeriod, PolicyRecord, PolicyTargetKind, PriceRecord, UsageDelta, UsageQuery, UsageRow } from './store.ts'
import { numOrNull, strOrNull } from './key-row.ts'

/**
 * The `policies`, `prices` and `usage_hourly` rows as every adapter stores them, and the one
 * usage query both dialects run, so the adapters cannot drift apart. Numbers go through
 * Number() because pg returns BIGINT (and SUM of BIGINT) as text.
 */
export const policyColumns = 'id, target_kind, target_id, tenant, requests_per_minute, tokens_per_minute, concurrent_requests, ' +
  'budget_micro_usd, budget_period, max_tokens, created_at, created_by, updated_at'

export const priceColumns = 'model, input_micro_usd_per_million, output_micro_usd_per_million, updated_at, updated_by'

export const usageColumns = 'hour, key_id, client_id, tenant, model, requests, input_tokens, output_tokens, cost_micro_usd'

/** The counters `add` increments, in `usageColumns` order after the five dimensions. */
export const usageCounters = ['requests', 'input_tokens', 'output_tokens', 'cost_micro_usd'] as const

type Value = string | number | null
type Row = Readonly<Record<string, unknown>>

export function policyToRow (p: PolicyRecord): Value[] {
  return [p.id, p.targetKind, p.targetId, p.tenant, p.requestsPerMinute, p.tokensPerMinute, p.concurrentRequests,
    p.budgetMicroUsd, p.budgetPeriod, p.maxTokens, p.createdAt, p.createdBy, p.updatedAt]
}

export function rowToPolicy (row: Row): PolicyRecord {
  return {
    id: String(row.id),
    targetKind: String(row.target_kind) as PolicyTargetKind,
    targetId: strOrNull(row.target_id),
    tenant: strOrNull(row.tenant),
    requestsPerMinute: numOrNull(row.requests_per_minute),
    tokensPerMinute: numOrNull(row.tokens_per_minute),
    concurrentRequests: numOrNull(row.concurrent_requests),
    budgetMicroUsd: numOrNull(row.budget_micro_usd),
    budgetPeriod: strOrNull(row.budget_period) as BudgetPeriod | null,
    maxTokens: numOrNull(row.max_tokens),
    createdAt: Number(row.created_at),
    createdBy: strOrNull(row.created_by),
    updatedAt: Number(row.updated_at)
  }
}

export function priceToRow (p: PriceRecord): Value[] {
  return [p.model, p.inputMicroUsdPerMillion, p.outputMicroUsdPerMillion, p.updatedAt, p.updatedBy]
}

export function rowToPrice (row: Row): PriceRecord {
  return {
    model: String(row.model),
    inputMicroUsdPerMillion: Number(row.input_micro_usd_per_million),
    outputMicroUsdPerMillion: Number(row.output_micro_usd_per_million),
    updatedAt: Number(row.updated_at),
    updatedBy: strOrNull(row.updated_by)
  }
}

/** `SET a = excluded.a, …` for every column but the conflict target: an upsert that replaces the row. */
export function replaceAssignments (columns: string, conflict: string): string {
  return columns.split(',').map((c) => c.trim()).filter((c) => c !== conflict).map((c) => `${c} = excluded.${c}`).join(', ')
}

const hourMs = 3_600_000

/**
 * A batch as the rows `add` writes: one per cell (same cell summed), hours floored to the UTC
 * hour, sorted by cell. Absent dimensions are stored as '' because SQL NULLs never collide in a
 * unique key: with NULL, two deltas for a key-less cell would make two rows instead of one sum.
 * The fixed order makes concurrent transactions lock shared cells in the same order, so two
 * batches touching the same cells queue instead of deadlocking (PostgreSQL).
 */
export function usageCells (batch: readonly UsageDelta[]): Value[][] {
  const cells = new Map<string, Value[]>()
  for (const d of batch) {
    const dims: Value[] = [Math.floor(d.hour / hourMs) * hourMs, d.keyId ?? '', d.clientId ?? '', d.tenant ?? '', d.model]
    const id = JSON.stringify(dims)
    const counts = [d.requests, d.inputTokens, d.outputTokens, d.costMicroUsd]
    const cell = cells.get(id)
    if (cell === undefined) cells.set(id, [...dims, ...counts])
    else counts.forEach((n, i) => { cell[5 + i] = (cell[5 + i] as number) + n })
  }
  return [...cells.keys()].sort().map((id) => cells.get(id) as Value[])
}

const dimensionColumns = { hour: 'hour', key: 'key_id', client: 'client_id', tenant: 'tenant', model: 'model' } as const

/**
 * The aggregate query behind `UsageStore.query`, with `mark(n)` giving the n-th (1-based)
 * placeholder of the dialect. Non-grouped dimensions are selected as NULL and summed over; an
 * empty `groupBy` sums everything into one row (none when nothing matched).
 */
export function usageQuerySql (table: string, query: UsageQuery, mark: (n: number) => string): { sql: string, params: Value[] } {
  const params: Value[] = [Math.floor(query.from / hourMs) * hourMs, query.to]
  const where = [`hour >= ${mark(1)}`, `hour < ${mark(2)}`]
  const filters: Array<[string, string | undefined]> = [['key_id', query.keyId], ['client_id', query.clientId], ['tenant', query.tenant], ['model', query.model]]
  for (const [column, value] of filters) {
    if (value === undefined) continue
    params.push(value)
    where.push(`${column} = ${mark(params.length)}`)
  }
  const grouped = Object.entries(dimensionColumns).filter(([dim]) => query.groupBy.includes(dim as keyof typeof dimensionColumns)).map(([, c]) => c)
  const select = Object.values(dimensionColumns).map((c) => grouped.includes(c) ? c : `NULL AS ${c}`)
  const order = [...(grouped.includes('hour') ? ['hour'] : []), 'total_cost DESC', ...grouped.filter((c) => c !== 'hour')]
  params.push(query.limit)
  const sql = `SELECT ${select.join(', ')}, SUM(requests) AS total_requests, SUM(input_tokens) AS total_input, ` +
    `SUM(output_tokens) AS total_output, SUM(cost_micro_usd) AS total_cost FROM ${table} WHERE ${where.join(' AND ')}` +
    (grouped.length > 0 ? ` GROUP BY ${grouped.join(', ')}` : '') +
    ` HAVING COUNT(*) > 0 ORDER BY ${order.join(', ')} LIMIT ${mark(params.length)}`
  return { sql, params }
}

/** '' is how an absent dimension is stored (see usageCells); it reads back as null. */
function dimension (value: unknown): string | null {
  return value === null || value === undefined || value === '' ? null : String(value)
}

export function rowToUsage (row: Row): UsageRow {
  return {
    hour: numOrNull(row.hour),
    keyId: dimension(row.key_id),
    clientId: dimension(row.client_id),
    tenant: dimension(row.tenant),
    model: dimension(row.model),
    requests: Number(row.total_requests),
    inputTokens: Number(row.total_input),
    outputTokens: Number(row.total_output),
    costMicroUsd: Number(row.total_cost)
  }
}
