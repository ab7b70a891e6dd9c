import type { Redis } from 'ioredis'
import type { Config } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Store } from '../store/store.ts'
import type { ChangeBus } from '../cluster/change-bus.ts'
import type { CounterStore } from './counter-store.ts'
import type { BudgetEvent } from './budget-events.ts'
import type { AdminRoute } from '../admin/admin-routes.ts'
import { policyRoutes } from '../admin/policies-routes.ts'
import { priceRoutes } from '../admin/prices-routes.ts'
import { usageRoutes } from '../admin/usage-routes.ts'
import { createMemoryCounterStore } from './memory-counter-store.ts'
import { createRedisCounterStore } from './redis-counter-store.ts'
import { createPolicyResolver, type PolicyResolver } from './policy-resolver.ts'
import { createPriceTable, type PriceTable } from './pricing.ts'
import { defaultPrices } from './default-prices.ts'
import { createUsageRecorder } from './usage-recorder.ts'
import { createLimitsEngine, type LimitsEngine } from './limits-engine.ts'
import { createTokenCountCache } from './token-count-cache.ts'
import { modelAllowed } from '../lib/model-pattern.ts'

export interface LimitsOptions {
  readonly config: Readonly<Config>
  readonly store: Store
  readonly redis: Redis | null
  readonly bus: ChangeBus
  readonly log: Logger
}

export interface Limits {
  readonly engine: LimitsEngine
  readonly counters: CounterStore
  /** `/admin/v1/policies`, `/admin/v1/prices`, `/admin/v1/usage`. */
  readonly adminRoutes: readonly AdminRoute[]
  /** Re-reads policies and prices from the store (after a change here or on another instance). */
  reload (): Promise<void>
  /** Called by the admin API after it changed policies or prices: reload here, tell the others. */
  changed (what: 'policies' | 'prices'): Promise<void>
  /** The last budget threshold events (50/80/100 %), newest last, for alerting. */
  recentBudgetEvents (): readonly BudgetEvent[]
  close (): Promise<void>
}

const maxBudgetEvents = 1000
const usdToMicro = 1_000_000

/**
 * The composition of the limits issue: counters (memory, or Redis shared by every instance),
 * policies and prices from config and store (cached, reloaded on change), usage recording, and
 * the engine the limits stage calls.
 */
export async function buildLimits (options: LimitsOptions): Promise<Limits> {
  const { config, store, log } = options
  const limits = config.limits
  const counters: CounterStore = options.redis === null
    ? createMemoryCounterStore({})
    : createRedisCounterStore({ redis: options.redis, keyPrefix: `${config.redis_key_prefix}limits:` })
  // Degraded mode: per-instance counters while Redis is unreachable, if the operator opted in.
  let fallback: CounterStore | null = null
  let lastFallbackLog = 0
  const onCounterFailure = (err: unknown): CounterStore | null => {
    if (limits.on_redis_failure === 'fail_closed' || counters.kind === 'memory') {
      log.error({ err }, 'rate limits cannot be checked (Redis unreachable): refusing requests with 503')
      return null
    }
    fallback ??= createMemoryCounterStore({})
    if (Date.now() - lastFallbackLog > 60_000) {
      lastFallbackLog = Date.now()
      log.error({ err }, 'DEGRADED: Redis is unreachable; limits and budgets are enforced PER INSTANCE until it is back (limits.on_redis_failure = local_limits)')
    }
    return fallback
  }

  const configured = config.prices.map((p) => ({
    model: p.model,
    inputMicroUsdPerMillion: Math.round(p.input_per_million_usd * usdToMicro),
    outputMicroUsdPerMillion: Math.round(p.output_per_million_usd * usdToMicro)
  }))
  let resolver: PolicyResolver = createPolicyResolver(limits, [])
  let prices: PriceTable = createPriceTable(lastWins([...defaultPrices, ...configured]))
  const reload = async (): Promise<void> => {
    const [policies, stored] = await Promise.all([store.policies.listAll(), store.prices.listAll()])
    resolver = createPolicyResolver(limits, policies)
    // Later entries win: defaults ← config ← admin API.
    prices = createPriceTable(lastWins([...defaultPrices, ...configured, ...stored]))
  }
  await reload()

  const events: BudgetEvent[] = []
  const usage = createUsageRecorder({ store, flushMs: limits.usage_flush_ms, log })
  const engine = createLimitsEngine({
    counters: () => counters,
    resolver: () => resolver,
    prices: () => prices,
    usage,
    tokensCounted: limits.tokens_counted,
    tokenCache: createTokenCountCache({ maxEntries: limits.token_count_cache_entries }),
    defaultMaxTokens: limits.default_max_tokens,
    leaseMs: limits.concurrency_lease_seconds * 1000,
    log,
    async recordedSpend (target, from, to) {
      // What a restarted process (or a Redis that lost its data) must not forget. Pending usage
      // of this process is flushed first; other instances' unflushed seconds are the bound.
      await usage.flush()
      const id = target.id ?? undefined
      const rows = await store.usage.query({
        from,
        to: to + 1,
        ...(target.kind === 'key' ? { keyId: id } : {}),
        ...(target.kind === 'client' ? { clientId: id } : {}),
        ...(target.kind === 'tenant' ? { tenant: id } : {}),
        groupBy: target.kind === 'model' ? ['model'] : [],
        limit: 10_000
      })
      return rows
        .filter((r) => target.kind !== 'model' || (r.model !== null && id !== undefined && modelAllowed([id], r.model)))
        .reduce((sum, r) => sum + r.costMicroUsd, 0)
    },
    onCounterFailure,
    onBudgetEvent (event) {
      events.push(event)
      if (events.length > maxBudgetEvents) events.shift()
      log.warn({ event: event.type, budget: event.budget, threshold: event.threshold, spent_usd: event.spentMicroUsd / usdToMicro, limit_usd: event.limitMicroUsd / usdToMicro }, `budget crossed ${event.threshold * 100} %`)
    }
  })
  const changed = async (what: 'policies' | 'prices'): Promise<void> => {
    // The write has happened: a failed reload must not turn the admin's answer into an error.
    await reload().catch((err: unknown) => { log.error({ err }, `reloading ${what} failed; the previous ones stay in force until the next change`) })
    options.bus.publish({ type: what })
  }
  const adminRoutes: AdminRoute[] = [
    ...policyRoutes({
      policies: store.policies,
      findKeyTenant: async (id) => { const k = await store.keys.get(id); return k === null ? null : { tenant: k.tenant } },
      findClientTenant: async (id) => { const c = await store.clients.get(id); return c === null ? null : { tenant: c.tenant } },
      onChange: () => changed('policies')
    }),
    ...priceRoutes({ prices: store.prices, configured, onChange: () => changed('prices') }),
    ...usageRoutes({ usage: store.usage })
  ]
  return {
    engine,
    counters,
    adminRoutes,
    reload,
    changed,
    recentBudgetEvents: () => events,
    async close () {
      await usage.close()
      await counters.close()
      await fallback?.close()
    }
  }
}

/** One entry per model, the last one given winning (defaults ← config ← admin API). */
function lastWins<T extends { readonly model: string }> (entries: readonly T[]): T[] {
  return [...new Map(entries.map((e) => [e.model, e])).values()]
}
