import type { Logger, RequestContext } from '../pipeline/context.ts'
import type { AcquireResult, CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import type { PolicyResolver, LimitSource } from './policy-resolver.ts'
import type { Price, PriceTable } from './pricing.ts'
import type { UsageRecorder } from './usage-recorder.ts'
import type { TokenCountCache } from './token-count-cache.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { budgetPeriodAt } from './policy-resolver.ts'
import { estimatePrompt } from './estimate-tokens.ts'
import { completionCount, requestedMaxTokens } from './max-tokens.ts'
import { costMicroUsd } from './pricing.ts'
import { newStreamedOutput, type StreamedOutput } from './streamed-output.ts'
import { rateLimitHeaders } from './rate-limit-headers.ts'
import { countedTokens, createSettle } from './limits-settlement.ts'
import type { BudgetEvent } from './budget-events.ts'

export interface LimitsEngineOptions {
  readonly counters: () => CounterStore
  readonly resolver: () => PolicyResolver
  readonly prices: () => PriceTable
  readonly usage: UsageRecorder
  readonly tokensCounted: 'total' | 'input' | 'output'
  readonly defaultMaxTokens: number
  readonly leaseMs: number
  readonly log: Logger
  readonly onBudgetEvent: (event: BudgetEvent) => void
  /** Spend recorded in the usage store for a budget's target since `from` (micro-USD). */
  readonly recordedSpend: (target: NonNullable<LimitSource['budgetTarget']>, from: number, to: number) => Promise<number>
  /** What to do when the counters cannot be reached: refuse (503), or use `fallback` (per instance). */
  readonly onCounterFailure: (err: unknown) => CounterStore | null
  readonly now?: () => number
  /** Token counts of recent prompt texts (see token-count-cache.ts); none: every text is tokenised. */
  readonly tokenCache?: TokenCountCache
}

/** What a request reserved, kept by the stage until completion. */
export interface Admission {
  /** Null when no counter applies (usage and cost are still recorded). */
  readonly reservation: Reservation | null
  readonly counters: CounterStore | null
  readonly checks: readonly LimitCheck[]
  readonly inputEstimate: number
  /** The part of `inputEstimate` that is a flat allowance for images, audio or files. */
  readonly mediaEstimate: number
  readonly outputReserve: number
  /** The model's price, looked up once at admission; null when the model has none. */
  readonly price: Price | null
  /** What a streamed response produced, in case the upstream reports no usage. */
  readonly output: StreamedOutput
}

export interface LimitsEngine {
  /**
   * Reserves or throws 429/400/503; null when no limit applies and nothing needs settling.
   * Answers at once when the counters are in process (no promise), a promise otherwise.
   */
  admit (ctx: RequestContext): Admission | null | Promise<Admission | null>
  /** Settles to the real usage and records it; never throws. At once for in-process counters. */
  settle (ctx: RequestContext, admission: Admission): void | Promise<void>
}

/** What admission worked out before asking the counters. */
interface Prepared {
  readonly sources: readonly LimitSource[]
  readonly checks: readonly LimitCheck[]
  readonly inputEstimate: number
  readonly mediaEstimate: number
  readonly outputReserve: number
  readonly price: Price | null
  readonly at: number
}

const maxTokenizedChars = 128 * 1024

export function createLimitsEngine (options: LimitsEngineOptions): LimitsEngine {
  const now = options.now ?? Date.now
  const tokenCache = options.tokenCache ?? null
  // Budget counters this process has seeded from the usage store (once per counter and period).
  const seeded = new Set<string>()
  async function seedBudgets (counters: CounterStore, sources: readonly LimitSource[], checks: readonly LimitCheck[], at: number): Promise<void> {
    for (const source of sources) {
      if (source.budgetPeriod === null || source.budgetTarget === null) continue
      const period = budgetPeriodAt(source.budgetPeriod, at)
      const key = source.keys.budget(period.tag)
      if (seeded.has(key) || !checks.some((c) => c.key === key)) continue
      const spent = await options.recordedSpend(source.budgetTarget, period.start, at)
      await counters.seedBudget(key, spent, period.resetAt)
      if (seeded.size >= 10_000) seeded.clear()
      seeded.add(key)
    }
  }
  function prepare (ctx: RequestContext): Prepared | null {
    const principal = ctx.principal
    if (principal === null) return null
    const applicable = options.resolver().applicable(principal, ctx.model)
    const body = ctx.body
    const generates = body !== null && ctx.endpoint !== 'embeddings' && ctx.endpoint !== 'models'
    // Output tokens for all `n` completions; a per-credential cap applies to each of them.
    const requested = body === null ? null : requestedMaxTokens(ctx.endpoint, body)
    const completions = body === null ? 1 : Math.max(1, completionCount(ctx.endpoint, body))
    if (applicable.maxTokens !== null && requested !== null && requested > applicable.maxTokens * completions) {
      throw new GatewayError('invalid_request', { param: 'max_tokens', message: `max_tokens may be at most ${applicable.maxTokens} for these credentials.` })
    }
    // A cap with no max_tokens in the request is sent upstream, so the reservation is a real bound.
    if (generates && applicable.maxTokens !== null && requested === null) ctx.body = { ...body, max_tokens: applicable.maxTokens }
    const outputReserve = generates ? (requested ?? (applicable.maxTokens ?? options.defaultMaxTokens) * completions) : 0
    // Past 128 KiB of text a prompt is counted by its bytes (an upper bound) instead of being
    // tokenised: tokenising a hostile megabyte costs seconds of event loop.
    const estimate = body === null ? { tokens: 0, mediaTokens: 0 } : estimatePrompt(ctx.endpoint, body, ctx.model ?? '', maxTokenizedChars, tokenCache)
    const inputEstimate = estimate.tokens
    const price = ctx.model === null ? null : options.prices().priceFor(ctx.model)
    const at = now()
    const checks = buildChecks(applicable.sources, {
      tokens: countedTokens(options.tokensCounted, inputEstimate, outputReserve),
      cost: price === null ? 0 : costMicroUsd(price, inputEstimate, outputReserve),
      leaseMs: options.leaseMs,
      at
    })
    if (price === null && hasBudget(checks)) {
      // Fail closed: without a price a budget would let the request through for free.
      throw new GatewayError('forbidden', { param: 'model', message: 'No price is configured for this model, so its budget cannot be enforced. An operator can add one (prices in the config, or POST /admin/v1/prices/{model}).' })
    }
    return { sources: applicable.sources, checks, inputEstimate, mediaEstimate: estimate.mediaTokens, outputReserve, price, at }
  }

  function admitted (ctx: RequestContext, p: Prepared, counters: CounterStore, result: AcquireResult): Admission {
    rateLimitHeaders(result.states, ctx.responseHeaders)
    if (!result.ok) {
      ctx.limitRefusal = result.denied.kind
      throw refusal(result.denied, result.retryAfterMs)
    }
    return admission(p, result.reservation, counters)
  }

  /** Counters behind I/O, budgets still to seed, or a failure to handle: the awaited path. */
  async function admitAsync (ctx: RequestContext, p: Prepared, failure: { err: unknown } | null): Promise<Admission> {
    let counters = options.counters()
    let result
    try {
      if (failure !== null) throw failure.err
      if (unseeded(p.checks, seeded)) await seedBudgets(counters, p.sources, p.checks, p.at)
      result = await counters.acquire(p.checks)
    } catch (err) {
      const fallback = options.onCounterFailure(err)
      if (fallback === null) throw new GatewayError('service_unavailable', { message: 'Rate limits cannot be checked right now.', cause: err })
      counters = fallback
      result = await counters.acquire(p.checks)
    }
    return admitted(ctx, p, counters, result)
  }

  return {
    admit (ctx) {
      const p = prepare(ctx)
      if (p === null) return null
      if (p.checks.length === 0) return admission(p, null, null)
      const counters = options.counters()
      if (counters.acquireNow === undefined || unseeded(p.checks, seeded)) return admitAsync(ctx, p, null)
      let result
      try {
        result = counters.acquireNow(p.checks)
      } catch (err) {
        return admitAsync(ctx, p, { err })
      }
      return admitted(ctx, p, counters, result)
    },

    settle: createSettle({ tokensCounted: options.tokensCounted, usage: options.usage, onBudgetEvent: options.onBudgetEvent, now })
  }
}

function admission (p: Prepared, reservation: Reservation | null, counters: CounterStore | null): Admission {
  return { reservation, counters, checks: p.checks, inputEstimate: p.inputEstimate, mediaEstimate: p.mediaEstimate, outputReserve: p.outputReserve, price: p.price, output: newStreamedOutput() }
}

function hasBudget (checks: readonly LimitCheck[]): boolean {
  for (let i = 0; i < checks.length; i++) if ((checks[i] as LimitCheck).kind === 'budget') return true
  return false
}

/** Whether a budget counter of these checks has not been seeded from the usage store yet. */
function unseeded (checks: readonly LimitCheck[], seeded: ReadonlySet<string>): boolean {
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as LimitCheck
    if (c.kind === 'budget' && !seeded.has(c.key)) return true
  }
  return false
}

interface CheckInputs {
  readonly tokens: number
  readonly cost: number
  readonly leaseMs: number
  readonly at: number
}

function buildChecks (sources: readonly LimitSource[], x: CheckInputs): LimitCheck[] {
  const checks: LimitCheck[] = []
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i] as LimitSource
    if (s.requestsPerMinute !== null) checks.push({ key: s.keys.requests, kind: 'requests', limit: s.requestsPerMinute, windowMs: 60_000, cost: 1 })
    if (s.tokensPerMinute !== null) checks.push({ key: s.keys.tokens, kind: 'tokens', limit: s.tokensPerMinute, windowMs: 60_000, cost: x.tokens })
    if (s.concurrentRequests !== null) checks.push({ key: s.keys.concurrency, kind: 'concurrency', limit: s.concurrentRequests, windowMs: x.leaseMs, cost: 1 })
    if (s.budgetMicroUsd !== null && s.budgetPeriod !== null) {
      const period = budgetPeriodAt(s.budgetPeriod, x.at)
      checks.push({ key: s.keys.budget(period.tag), kind: 'budget', limit: s.budgetMicroUsd, windowMs: 0, resetAt: period.resetAt, cost: x.cost })
    }
  }
  return checks
}

function refusal (denied: LimitCheck, retryAfterMs: number | null): GatewayError {
  if (denied.kind === 'budget') return new GatewayError('budget_exceeded', { headers: { 'x-should-retry': 'false' } })
  if (retryAfterMs === null) {
    // Waiting cannot help: this one request needs more than the whole limit.
    return new GatewayError('invalid_request', {
      param: 'max_tokens',
      message: `The prompt plus max_tokens exceed the tokens-per-minute limit (${denied.limit}) of these credentials; send a smaller max_tokens.`
    })
  }
  const ms = Math.max(1, Math.ceil(retryAfterMs))
  return new GatewayError('rate_limit_exceeded', { headers: { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) } })
}
