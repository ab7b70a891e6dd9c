import { z } from 'zod'
import type { AdminRequest, AdminRoute } from './admin-routes.ts'
import type { Principal } from '../pipeline/context.ts'
import type { BudgetPeriod, PolicyLimits, PolicyRecord, PolicyStore } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { budgetMicroUsd, generatePolicyId, isPolicyId, validatePolicyLimits, validatePolicyTarget, type PolicyTarget } from '../limits/policy-rules.ts'
import { emptyBody, listQuery, parseInput } from './parse-input.ts'
import { createTenant, isVisibleTo, listTenant } from './tenant-scope.ts'

export interface PolicyRoutesDeps {
  readonly policies: PolicyStore
  /** The tenant of an API key; null when no key has this id. */
  findKeyTenant (id: string): Promise<{ readonly tenant: string | null } | null>
  /** The tenant of an OAuth client; null when no client has this id. */
  findClientTenant (id: string): Promise<{ readonly tenant: string | null } | null>
  /** Called (and awaited) after every write, so caches reload and other instances hear of it. */
  onChange (): void | Promise<void>
  readonly now?: () => number
}

/** A policy as the admin API shows it: snake_case, Unix seconds, the budget in USD. */
export interface PolicyJson {
  object: 'policy'
  id: string
  target: { kind: PolicyRecord['targetKind'], id: string | null }
  /** The tenant that manages the policy; null = the operator. */
  tenant: string | null
  requests_per_minute: number | null
  tokens_per_minute: number | null
  concurrent_requests: number | null
  budget_usd: number | null
  budget_period: BudgetPeriod | null
  max_tokens: number | null
  created_at: number
  created_by: string | null
  updated_at: number
}

export function policyJson (p: PolicyRecord): PolicyJson {
  return {
    object: 'policy',
    id: p.id,
    target: { kind: p.targetKind, id: p.targetId },
    tenant: p.tenant,
    requests_per_minute: p.requestsPerMinute,
    tokens_per_minute: p.tokensPerMinute,
    concurrent_requests: p.concurrentRequests,
    budget_usd: p.budgetMicroUsd === null ? null : p.budgetMicroUsd / 1_000_000,
    budget_period: p.budgetPeriod,
    max_tokens: p.maxTokens,
    created_at: Math.floor(p.createdAt / 1000),
    created_by: p.createdBy,
    updated_at: Math.floor(p.updatedAt / 1000)
  }
}

// Types only here; ranges and combinations are checked by policy-rules.ts with the same `param`s.
const limitFields = {
  requests_per_minute: z.number().nullable().optional(),
  tokens_per_minute: z.number().nullable().optional(),
  concurrent_requests: z.number().nullable().optional(),
  budget_usd: z.number().nullable().optional(),
  budget_period: z.string().nullable().optional(),
  max_tokens: z.number().nullable().optional()
}

const createBody = z.strictObject({
  target: z.strictObject({ kind: z.string(), id: z.string().nullable().optional() }),
  tenant: z.string().nullable().optional(),
  ...limitFields
})

const updateBody = z.strictObject({ ...limitFields, target: z.unknown().optional(), tenant: z.unknown().optional() })

const policyListQuery = listQuery.extend({ target_kind: z.string().max(16).optional(), target_id: z.string().max(256).optional() })

type LimitInput = z.output<z.ZodObject<typeof limitFields>>

function notFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No policy with this id.', param: 'id' })
}

function forbidden (param: string, message: string): GatewayError {
  return new GatewayError('forbidden', { param, message })
}

/** The submitted limits over `base` (absent fields keep their value, null clears). */
function mergeLimits (base: PolicyLimits, input: LimitInput): PolicyLimits {
  const pick = <T>(value: T | null | undefined, old: T | null): T | null => value === undefined ? old : value
  const budget = input.budget_usd === undefined ? base.budgetMicroUsd : budgetMicroUsd(input.budget_usd)
  // Clearing the budget clears its period too, unless the request names one (then it is an error).
  const period = input.budget_period === undefined && input.budget_usd === null ? null : pick(input.budget_period as BudgetPeriod | null | undefined, base.budgetPeriod)
  return validatePolicyLimits({
    requestsPerMinute: pick(input.requests_per_minute, base.requestsPerMinute),
    tokensPerMinute: pick(input.tokens_per_minute, base.tokensPerMinute),
    concurrentRequests: pick(input.concurrent_requests, base.concurrentRequests),
    budgetMicroUsd: budget,
    budgetPeriod: period,
    maxTokens: pick(input.max_tokens, base.maxTokens)
  })
}

const noLimits: PolicyLimits = { requestsPerMinute: null, tokensPerMinute: null, concurrentRequests: null, budgetMicroUsd: null, budgetPeriod: null, maxTokens: null }

/**
 * Checks that a policy managed by `owner` (null = the operator) may target `target`. A tenant
 * manages limits of its own tenant, keys and clients only; global and model policies act on
 * every tenant, so only the operator sets them. Another tenant's key or client answers exactly
 * like a missing one (404), as everywhere in the admin API (tenant-scope.ts).
 */
async function assertTargetWithin (deps: PolicyRoutesDeps, principal: Principal, owner: string | null, target: PolicyTarget): Promise<void> {
  if (owner === null) {
    if (target.kind === 'key' || target.kind === 'client') await findTarget(deps, target)
    return
  }
  const bound = principal.tenant !== null
  if (target.kind === 'global' || target.kind === 'model') {
    if (bound) throw forbidden('target.kind', 'Global and model policies act on every tenant: only the operator (a credential without a tenant) may manage them.')
    throw new GatewayError('invalid_request', { param: 'tenant', message: 'A global or model policy cannot belong to a tenant.' })
  }
  if (target.kind === 'tenant') {
    if (target.id === owner) return
    if (bound) throw forbidden('target.id', 'This credential administers its own tenant only.')
    throw new GatewayError('invalid_request', { param: 'tenant', message: 'A tenant policy belongs to the tenant it targets.' })
  }
  const found = await findTarget(deps, target)
  if (found.tenant === owner) return
  if (bound) throw targetNotFound(target)
  throw new GatewayError('invalid_request', { param: 'tenant', message: `The ${target.kind} belongs to another tenant than the policy.` })
}

function targetNotFound (target: PolicyTarget): GatewayError {
  return new GatewayError('not_found', { param: 'target.id', message: target.kind === 'key' ? 'No API key with this id.' : 'No OAuth client with this id.' })
}

async function findTarget (deps: PolicyRoutesDeps, target: PolicyTarget): Promise<{ readonly tenant: string | null }> {
  const id = target.id ?? ''
  const found = target.kind === 'key' ? await deps.findKeyTenant(id) : await deps.findClientTenant(id)
  if (found === null) throw targetNotFound(target)
  return found
}

/** The policy named in the path, if the caller may see it: another tenant's is a 404 like a missing one. */
async function visiblePolicy (deps: PolicyRoutesDeps, { params, principal }: AdminRequest): Promise<PolicyRecord> {
  const id = params.id ?? ''
  const policy = isPolicyId(id) ? await deps.policies.get(id) : null
  if (policy === null || !isVisibleTo(principal, policy.tenant)) throw notFound()
  return policy
}

const newestFirst = (a: PolicyRecord, b: PolicyRecord): number => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** `/admin/v1/policies`: rate limits, concurrency, budgets and `max_tokens` caps per target. */
export function policyRoutes (deps: PolicyRoutesDeps): AdminRoute[] {
  const now = deps.now ?? Date.now
  return [
    {
      method: 'POST', url: '/policies', scope: 'admin:config',
      async handler ({ body, actor, principal }) {
        const input = parseInput(createBody, body)
        const target = validatePolicyTarget(input.target.kind, input.target.id)
        const owner = createTenant(principal, input.tenant)
        await assertTargetWithin(deps, principal, owner, target)
        const limits = mergeLimits(noLimits, input)
        const at = now()
        const policy: PolicyRecord = { id: generatePolicyId(), targetKind: target.kind, targetId: target.id, tenant: owner, ...limits, createdAt: at, createdBy: actor, updatedAt: at }
        await deps.policies.put(policy)
        await deps.onChange()
        return { status: 201, body: policyJson(policy) }
      }
    },
    {
      method: 'GET', url: '/policies', scope: 'admin:config',
      async handler ({ query, principal }) {
        const q = parseInput(policyListQuery, query)
        const tenant = listTenant(principal, q.tenant ?? null)
        const all = (await deps.policies.listAll()).filter((p) => (tenant === null || p.tenant === tenant) &&
          (q.target_kind === undefined || p.targetKind === q.target_kind) && (q.target_id === undefined || p.targetId === q.target_id))
        all.sort(newestFirst)
        let start = 0
        if (q.after !== undefined) {
          // Another tenant's id as a cursor is refused exactly like an unknown one.
          start = all.findIndex((p) => p.id === q.after) + 1
          if (start === 0) throw new GatewayError('invalid_request', { param: 'after', message: 'after must be the id of a policy from the previous page' })
        }
        const limit = q.limit ?? 20
        const data = all.slice(start, start + limit).map(policyJson)
        const hasMore = all.length > start + limit
        return { body: { object: 'list', data, has_more: hasMore, next_cursor: hasMore ? (data.at(-1)?.id ?? null) : null } }
      }
    },
    {
      method: 'GET', url: '/policies/:id', scope: 'admin:config',
      async handler (request) {
        return { body: policyJson(await visiblePolicy(deps, request)) }
      }
    },
    {
      method: 'POST', url: '/policies/:id', scope: 'admin:config',
      async handler (request) {
        const input = parseInput(updateBody, request.body)
        const policy = await visiblePolicy(deps, request)
        for (const field of ['target', 'tenant'] as const) {
          if (input[field] !== undefined) throw new GatewayError('invalid_request', { param: field, message: `${field} cannot be changed; delete the policy and create a new one.` })
        }
        const updated: PolicyRecord = { ...policy, ...mergeLimits(policy, input), updatedAt: now() }
        await deps.policies.put(updated)
        await deps.onChange()
        return { body: policyJson(updated) }
      }
    },
    {
      method: 'DELETE', url: '/policies/:id', scope: 'admin:config',
      async handler (request) {
        parseInput(emptyBody, request.body)
        const { id } = await visiblePolicy(deps, request)
        if (!await deps.policies.delete(id)) throw notFound()
        await deps.onChange()
        return { body: { id, object: 'policy', deleted: true } }
      }
    }
  ]
}
