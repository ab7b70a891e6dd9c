import type { Config } from '../config/config-schema.ts'
import type { Principal } from '../pipeline/context.ts'
import type { BudgetPeriod, PolicyLimits, PolicyRecord } from '../store/store.ts'
import { modelMatches } from '../lib/model-pattern.ts'

/** The limits of one counter scope: a stored policy, or an entry of the `limits` config. */
export interface LimitSource extends PolicyLimits {
  /** Stable counter id: the same policy on every instance uses the same counters. */
  readonly counterId: string
  /** Whose spend a budget counts (stored policies), for seeding its counter from recorded usage. */
  readonly budgetTarget: { readonly kind: PolicyRecord['targetKind'], readonly id: string | null } | null
  /** Counter keys, built once per source: the request path only looks them up. */
  readonly keys: CounterKeys
}

/** The counter keys of one source (`rq:`, `tk:`, `cc:`, and `bg:` + the budget period's tag). */
export interface CounterKeys {
  readonly requests: string
  readonly tokens: string
  readonly concurrency: string
  budget (periodTag: string): string
}

export function counterKeys (counterId: string): CounterKeys {
  let lastTag = ''
  let lastKey = ''
  return {
    requests: internalized(`rq:${counterId}`),
    tokens: internalized(`tk:${counterId}`),
    concurrency: internalized(`cc:${counterId}`),
    budget (periodTag) {
      if (periodTag !== lastTag) {
        lastTag = periodTag
        lastKey = internalized(`bg:${counterId}:${periodTag}`)
      }
      return lastKey
    }
  }
}

/**
 * The engine's own copy of a string, as V8 keeps property names: two such strings that differ
 * are told apart by identity, without comparing characters (keys are compared pairwise on every
 * acquire, and many have the same length). Keys are never array indices (they have a prefix).
 */
function internalized (text: string): string {
  return Object.keys({ [text]: 0 })[0] as string
}

// Per-credential sources remembered per resolver (rebuilt on every policy change), bounded.
const maxCredentialSources = 10_000

/** Every limit that applies to one request, and the tightest `max_tokens` cap among them. */
export interface ApplicableLimits {
  readonly sources: readonly LimitSource[]
  readonly maxTokens: number | null
}

export interface PolicyResolver {
  applicable (principal: Principal, model: string | null): ApplicableLimits
}

type LimitsConfig = Config['limits']

/**
 * Which limits apply to a caller and model. Every matching source is enforced with its own
 * counters — a key's policy, its tenant's, the model's and the global one all at once — so a
 * narrower policy never loosens a wider one. `limits.per_credential` gives every key or client
 * its own counters unless a stored policy targets that key or client.
 */
export function createPolicyResolver (config: LimitsConfig, policies: readonly PolicyRecord[]): PolicyResolver {
  const fixed: Array<{ source: LimitSource, matches: (p: Principal, model: string | null) => boolean }> = []
  const global = fromValues('cfg:global', config.global)
  if (global !== null) fixed.push({ source: global, matches: () => true })
  for (const entry of config.models) {
    const source = fromValues(`cfg:model:${entry.model}`, entry)
    if (source !== null) fixed.push({ source, matches: (_p, model) => model !== null && modelMatches(entry.model, model) })
  }
  // Credentials with a stored policy of their own, by kind: no string is built per request.
  const targeted = { key: new Set<string>(), client: new Set<string>() }
  for (const policy of policies) {
    const source = fromPolicy(policy)
    if (policy.targetKind === 'key' || policy.targetKind === 'client') targeted[policy.targetKind].add(policy.targetId ?? '')
    fixed.push({ source, matches: matcher(policy) })
  }
  const perCredential = fromValues('cfg:cred', config.per_credential)
  const credentialSources = { key: new Map<string, LimitSource>(), client: new Map<string, LimitSource>(), sub: new Map<string, LimitSource>() }
  let credentialCount = 0
  const credentialSource = (template: LimitSource, kind: 'key' | 'client' | 'sub', id: string): LimitSource => {
    const known = credentialSources[kind]
    let source = known.get(id)
    if (source === undefined) {
      if (++credentialCount > maxCredentialSources) {
        for (const map of Object.values(credentialSources)) map.clear()
        credentialCount = 1
      }
      const counterId = `cfg:cred:${kind}:${id}`
      source = { ...template, counterId, keys: counterKeys(counterId) }
      known.set(id, source)
    }
    return source
  }
  return {
    applicable (principal, model) {
      const sources: LimitSource[] = []
      let maxTokens: number | null = null
      for (let i = 0; i < fixed.length; i++) {
        const entry = fixed[i] as (typeof fixed)[number]
        if (!entry.matches(principal, model)) continue
        sources.push(entry.source)
        if (entry.source.maxTokens !== null) maxTokens = Math.min(maxTokens ?? Infinity, entry.source.maxTokens)
      }
      if (perCredential !== null) {
        if (principal.keyId !== null) {
          if (!targeted.key.has(principal.keyId)) sources.push(credentialSource(perCredential, 'key', principal.keyId))
        } else if (principal.clientId !== null) {
          if (!targeted.client.has(principal.clientId)) sources.push(credentialSource(perCredential, 'client', principal.clientId))
        } else if (principal.subject !== null) {
          sources.push(credentialSource(perCredential, 'sub', principal.subject))
        }
      }
      return { sources, maxTokens }
    }
  }
}

function matcher (policy: PolicyRecord): (p: Principal, model: string | null) => boolean {
  const id = policy.targetId
  switch (policy.targetKind) {
    case 'global': return () => true
    case 'tenant': return (p) => p.tenant !== null && p.tenant === id
    case 'key': return (p) => p.keyId !== null && p.keyId === id
    case 'client': return (p) => p.clientId !== null && p.clientId === id
    case 'model': return (_p, model) => model !== null && id !== null && modelMatches(id, model)
  }
}

function fromValues (counterId: string, v: { requests_per_minute: number | null, tokens_per_minute: number | null, concurrent_requests: number | null }): LimitSource | null {
  if (v.requests_per_minute === null && v.tokens_per_minute === null && v.concurrent_requests === null) return null
  return {
    counterId,
    requestsPerMinute: v.requests_per_minute,
    tokensPerMinute: v.tokens_per_minute,
    concurrentRequests: v.concurrent_requests,
    budgetMicroUsd: null,
    budgetPeriod: null,
    maxTokens: null,
    budgetTarget: null,
    keys: counterKeys(counterId)
  }
}

function fromPolicy (p: PolicyRecord): LimitSource {
  return {
    counterId: `pol:${p.id}`,
    requestsPerMinute: p.requestsPerMinute,
    tokensPerMinute: p.tokensPerMinute,
    concurrentRequests: p.concurrentRequests,
    budgetMicroUsd: p.budgetMicroUsd,
    budgetPeriod: p.budgetPeriod,
    maxTokens: p.maxTokens,
    budgetTarget: { kind: p.targetKind, id: p.targetId },
    keys: counterKeys(`pol:${p.id}`)
  }
}

/** The UTC calendar period a budget counts in: its tag (part of the counter key) and its end. */
export interface BudgetPeriodWindow { readonly tag: string, readonly start: number, readonly resetAt: number }

// Per-request calls land in the same period almost always: remember the last answer per kind.
const lastPeriods = new Map<BudgetPeriod, BudgetPeriodWindow>()

export function budgetPeriodAt (period: BudgetPeriod, now: number): BudgetPeriodWindow {
  const last = lastPeriods.get(period)
  if (last !== undefined && period !== 'total' && now >= last.start && now < last.resetAt) return last
  const computed = computePeriod(period, now)
  lastPeriods.set(period, computed)
  return computed
}

function computePeriod (period: BudgetPeriod, now: number): BudgetPeriodWindow {
  const d = new Date(now)
  if (period === 'daily') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    return { tag: new Date(start).toISOString().slice(0, 10), start, resetAt: start + 86_400_000 }
  }
  if (period === 'monthly') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
    return { tag: new Date(start).toISOString().slice(0, 7), start, resetAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) }
  }
  // A total budget never resets; its counter lives ten years, then the key is simply gone.
  return { tag: 'total', start: 0, resetAt: now + 10 * 365 * 86_400_000 }
}
