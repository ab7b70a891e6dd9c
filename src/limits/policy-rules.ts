import { randomBase62 } from '../lib/random-base62.ts'
import type { BudgetPeriod, PolicyLimits, PolicyTargetKind } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { isPublicKeyId } from '../auth/api-key-format.ts'
import { isClientId } from '../oauth/client-rules.ts'

/**
 * What a limits policy must satisfy before it is stored. Errors are `invalid_request` with
 * `param` naming the admin API field (`target.id`, `budget_usd`, …), and never repeat the
 * submitted value.
 */
export const policyTargetKinds: readonly PolicyTargetKind[] = Object.freeze(['global', 'tenant', 'key', 'client', 'model'])

export const budgetPeriods: readonly BudgetPeriod[] = Object.freeze(['daily', 'monthly', 'total'])

/** Largest `max_tokens` cap a policy may set (no model produces more in one answer). */
export const maxTokensLimit = 1_000_000

/** Largest budget in USD: keeps micro-USD far inside exact double integers (2^53). */
export const maxBudgetUsd = 1_000_000_000

const policyIdPattern = /^pol_[0-9A-Za-z]{16}$/
// C0/C1 control characters would corrupt tables, logs and terminal output.
const controlChars = /[\u0000-\u001f\u007f-\u009f]/

/** Policy ids look like `pol_<16 base62>`; the fixed shape lets the admin API answer 404 without a lookup. */
export function isPolicyId (text: string): boolean {
  return policyIdPattern.test(text)
}

export function generatePolicyId (): string {
  return 'pol_' + randomBase62(16)
}

function invalid (param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { param, message })
}

/** A model name, or a prefix ending in `*` (`qwen2.5-*`, or `*` alone); `*` anywhere else is refused. */
export function validateModelPattern (value: string, param: string): string {
  if (value.length < 1 || value.length > 256) throw invalid(param, `${param} must be 1 to 256 characters`)
  if (controlChars.test(value)) throw invalid(param, `${param} must not contain control characters`)
  if (value.slice(0, -1).includes('*')) throw invalid(param, `${param}: "*" may only end a model pattern (a prefix, e.g. qwen2.5-*)`)
  return value
}

export interface PolicyTarget {
  readonly kind: PolicyTargetKind
  /** Null only for `global`. */
  readonly id: string | null
}

/** Checks a policy target: its kind, and an id of the right shape for it. */
export function validatePolicyTarget (kind: string, id: string | null | undefined): PolicyTarget {
  if (!(policyTargetKinds as readonly string[]).includes(kind)) {
    throw invalid('target.kind', `target.kind must be one of ${policyTargetKinds.join(', ')}`)
  }
  const k = kind as PolicyTargetKind
  if (k === 'global') {
    if (id !== undefined && id !== null) throw invalid('target.id', 'a global policy has no target.id')
    return { kind: k, id: null }
  }
  if (id === undefined || id === null) throw invalid('target.id', `a ${k} policy needs target.id`)
  if (k === 'key' && !isPublicKeyId(id)) throw invalid('target.id', 'target.id must be an API key id (key_…)')
  if (k === 'client' && !isClientId(id)) throw invalid('target.id', 'target.id must be an OAuth client id (cli_…)')
  if (k === 'tenant') {
    if (id.length < 1 || id.length > 128) throw invalid('target.id', 'target.id must be a tenant name of 1 to 128 characters')
    if (controlChars.test(id)) throw invalid('target.id', 'target.id must not contain control characters')
  }
  if (k === 'model') validateModelPattern(id, 'target.id')
  return { kind: k, id }
}

function positive (value: number | null, param: string, max = Number.MAX_SAFE_INTEGER): number | null {
  if (value === null) return null
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw invalid(param, `${param} must be an integer from 1 to ${max}`)
  return value
}

/** USD (a decimal, as the admin API takes it) → whole micro-USD; anything that rounds to 0 is refused. */
export function budgetMicroUsd (usd: number | null): number | null {
  if (usd === null) return null
  if (!Number.isFinite(usd) || usd > maxBudgetUsd) throw invalid('budget_usd', `budget_usd must be a number of USD up to ${maxBudgetUsd}`)
  const micro = Math.round(usd * 1_000_000)
  if (micro < 1) throw invalid('budget_usd', 'budget_usd must be at least 0.000001 (one micro-USD)')
  return micro
}

/**
 * Checks the limits of a new policy, or of an updated one after merging the change over it:
 * positive integers, a budget period exactly when there is a budget, `max_tokens` up to
 * 1,000,000, and at least one limit (an empty policy would silently do nothing).
 */
export function validatePolicyLimits (limits: PolicyLimits): PolicyLimits {
  const out: PolicyLimits = {
    requestsPerMinute: positive(limits.requestsPerMinute, 'requests_per_minute'),
    tokensPerMinute: positive(limits.tokensPerMinute, 'tokens_per_minute'),
    concurrentRequests: positive(limits.concurrentRequests, 'concurrent_requests'),
    budgetMicroUsd: positive(limits.budgetMicroUsd, 'budget_usd'),
    budgetPeriod: limits.budgetPeriod,
    maxTokens: positive(limits.maxTokens, 'max_tokens', maxTokensLimit)
  }
  if (out.budgetPeriod !== null && !budgetPeriods.includes(out.budgetPeriod)) {
    throw invalid('budget_period', `budget_period must be one of ${budgetPeriods.join(', ')}`)
  }
  if (out.budgetMicroUsd !== null && out.budgetPeriod === null) throw invalid('budget_period', 'a budget needs budget_period (daily, monthly or total)')
  if (out.budgetMicroUsd === null && out.budgetPeriod !== null) throw invalid('budget_usd', 'budget_period is set but budget_usd is not')
  if (Object.values(out).every((v) => v === null)) {
    throw invalid('requests_per_minute', 'a policy must set at least one of requests_per_minute, tokens_per_minute, ' +
      'concurrent_requests, budget_usd or max_tokens')
  }
  return out
}
