import type { Logger, RequestContext } from '../pipeline/context.ts'
import type { CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import type { PolicyResolver, LimitSource } from './policy-resolver.ts'
import type { Price, PriceTable } from './pricing.ts'
import type { UsageRecorder } from './usage-recorder.ts'
import type { TokenCountCache } from './token-count-cache.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { budgetPeriodAt } from './policy-resolver.ts'
import { estimatePrompt } from './estimate-tokens.ts'
import { completionCount, requestedMaxTokens } from './max-tokens.ts'
import { costMicroUsd } from './pricing.ts'
import { validateUsage } from './validate-usage.ts'
import { newStreamedOutput, streamedOutputTokens, type StreamedOutput } from './streamed-output.ts'
import { rateLimitHeaders } from './rate-limit-headers.ts'
import { budgetCrossings, type BudgetEvent } from './budget-events.ts'

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
  /** Reserves or throws 429/400/503; null when no limit applies and nothing needs settling. */
  admit (ctx: RequestContext): Promise<Admission | null>
  settle (ctx: RequestContext, admission: Admission): Promise<void>
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
  return {
    async admit (ctx) {
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
      if (price === null && checks.some((c) => c.kind === 'budget')) {
        // Fail closed: without a price a budget would let the request through for free.
        throw new GatewayError('forbidden', { param: 'model', message: 'No price is configured for this model, so its budget cannot be enforced. An operator can add one (prices in the config, or POST /admin/v1/prices/{model}).' })
      }
      const mediaEstimate = estimate.mediaTokens
      if (checks.length === 0) return { reservation: null, counters: null, checks, inputEstimate, mediaEstimate, outputReserve, price, output: newStreamedOutput() }
      let counters = options.counters()
      let result
      try {
        if (unseeded(checks, seeded)) await seedBudgets(counters, applicable.sources, checks, at)
        result = await counters.acquire(checks)
      } catch (err) {
        const fallback = options.onCounterFailure(err)
        if (fallback === null) throw new GatewayError('service_unavailable', { message: 'Rate limits cannot be checked right now.', cause: err })
        counters = fallback
        result = await counters.acquire(checks)
      }
      rateLimitHeaders(result.states, ctx.responseHeaders)
      if (!result.ok) {
        ctx.limitRefusal = result.denied.kind
        throw refusal(result.denied, result.retryAfterMs)
      }
      return { reservation: result.reservation, counters, checks, inputEstimate, mediaEstimate, outputReserve, price, output: newStreamedOutput() }
    },

    async settle (ctx, admission) {
      const forwarded = ctx.upstream !== null && ctx.route !== null
      const streamed = forwarded && ctx.upstream?.kind === 'stream' && ctx.usage === null
        ? streamedOutputTokens(admission.output)
        : null
      const usage = forwarded
        ? validateUsage({
          reported: ctx.usage === null ? null : { prompt_tokens: ctx.usage.inputTokens, completion_tokens: ctx.usage.outputTokens },
          estimatedInput: admission.inputEstimate,
          estimatedMediaInput: admission.mediaEstimate,
          maxOutput: admission.outputReserve,
          streamedOutputEstimate: streamed
        })
        : { inputTokens: 0, outputTokens: 0, flags: [] as string[] }
      if (usage.flags.length > 0) logUsageFlags(ctx, usage.flags)
      const price = admission.price
      const cost = price === null ? 0 : costMicroUsd(price, usage.inputTokens, usage.outputTokens)
      ctx.costMicroUsd = cost
      const actual = new Map<string, number>()
      for (const check of admission.checks) {
        if (check.kind === 'tokens') actual.set(check.key, countedTokens(options.tokensCounted, usage.inputTokens, usage.outputTokens))
        else if (check.kind === 'budget') actual.set(check.key, cost)
      }
      try {
        const movements = admission.reservation === null || admission.counters === null ? [] : await admission.counters.settle(admission.reservation, actual)
        for (const event of budgetCrossings(movements)) options.onBudgetEvent(event)
      } catch (err) {
        // Reservations expire with their window or lease; a lost settlement over-counts, never under.
        ctx.log.error({ err, request_id: ctx.requestId }, 'settling rate-limit and budget reservations failed')
      }
      if (forwarded && ctx.model !== null && ctx.principal !== null) {
        options.usage.record({
          hour: now(),
          keyId: ctx.principal.keyId,
          clientId: ctx.principal.clientId,
          tenant: ctx.principal.tenant,
          model: ctx.model,
          requests: 1,
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          costMicroUsd: cost
        })
      }
    }
  }
}

/**
 * Tokenizers differ between providers: a count below our estimate is routine (debug, and the
 * line is not even built unless debug is on); a missing, negative, non-numeric or absurd one is
 * an upstream problem worth a warning.
 */
function logUsageFlags (ctx: RequestContext, flags: readonly string[]): void {
  const routine = flags.every((f) => f === 'usage_input_below_estimate' || f === 'usage_output_below_estimate')
  if (routine && !ctx.log.isLevelEnabled('debug')) return
  const line = { request_id: ctx.requestId, upstream: ctx.route?.upstream ?? null, flags }
  if (routine) ctx.log.debug(line, 'upstream usage below the local estimate; the local evidence was billed')
  else ctx.log.warn(line, 'upstream usage failed validation; the local evidence was billed')
}

/** Whether a budget counter of these checks has not been seeded from the usage store yet. */
function unseeded (checks: readonly LimitCheck[], seeded: ReadonlySet<string>): boolean {
  for (const c of checks) if (c.kind === 'budget' && !seeded.has(c.key)) return true
  return false
}

function countedTokens (which: 'total' | 'input' | 'output', input: number, output: number): number {
  return which === 'input' ? input : which === 'output' ? output : input + output
}

interface CheckInputs {
  readonly tokens: number
  readonly cost: number
  readonly leaseMs: number
  readonly at: number
}

function buildChecks (sources: readonly LimitSource[], x: CheckInputs): LimitCheck[] {
  const checks: LimitCheck[] = []
  for (const s of sources) {
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
