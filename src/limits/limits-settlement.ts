import type { RequestContext } from '../pipeline/context.ts'
import type { BudgetMovement, CounterStore, LimitCheck, Reservation } from './counter-store.ts'
import type { Admission, LimitsEngineOptions } from './limits-engine.ts'
import { costMicroUsd } from './pricing.ts'
import { validateUsage } from './validate-usage.ts'
import { streamedOutputTokens } from './streamed-output.ts'
import { budgetCrossings } from './budget-events.ts'

/**
 * The second half of the limits engine: after the response (completed, failed or aborted), the
 * reservation is settled to the validated real usage, budget crossings are reported and the
 * usage is recorded. In-process counters settle at once; others are awaited.
 */

type SettleOptions = Pick<LimitsEngineOptions, 'tokensCounted' | 'usage' | 'onBudgetEvent'> & { readonly now: () => number }

interface SettledUsage {
  readonly forwarded: boolean
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cost: number
}

export function createSettle (options: SettleOptions): (ctx: RequestContext, admission: Admission) => void | Promise<void> {
  const now = options.now
  function settledUsage (ctx: RequestContext, admission: Admission): SettledUsage {
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
    return { forwarded, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cost }
  }

  function actualAmounts (checks: readonly LimitCheck[], used: SettledUsage): Map<string, number> {
    const actual = new Map<string, number>()
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i] as LimitCheck
      if (check.kind === 'tokens') actual.set(check.key, countedTokens(options.tokensCounted, used.inputTokens, used.outputTokens))
      else if (check.kind === 'budget') actual.set(check.key, used.cost)
    }
    return actual
  }

  function settleFailed (ctx: RequestContext, err: unknown): void {
    // Reservations expire with their window or lease; a lost settlement over-counts, never under.
    ctx.log.error({ err, request_id: ctx.requestId }, 'settling rate-limit and budget reservations failed')
  }

  function moved (movements: readonly BudgetMovement[]): void {
    if (movements.length === 0) return
    for (const event of budgetCrossings(movements)) options.onBudgetEvent(event)
  }

  function recordUsage (ctx: RequestContext, used: SettledUsage): void {
    if (!used.forwarded || ctx.model === null || ctx.principal === null) return
    options.usage.record({
      hour: now(),
      keyId: ctx.principal.keyId,
      clientId: ctx.principal.clientId,
      tenant: ctx.principal.tenant,
      model: ctx.model,
      requests: 1,
      inputTokens: used.inputTokens,
      outputTokens: used.outputTokens,
      costMicroUsd: used.cost
    })
  }

  async function settleAsync (ctx: RequestContext, reservation: Reservation, counters: CounterStore, actual: Map<string, number>, used: SettledUsage): Promise<void> {
    try {
      moved(await counters.settle(reservation, actual))
    } catch (err) {
      settleFailed(ctx, err)
    }
    recordUsage(ctx, used)
  }

  return function settle (ctx: RequestContext, admission: Admission): void | Promise<void> {
    const used = settledUsage(ctx, admission)
    const { reservation, counters } = admission
    if (reservation === null || counters === null) {
      recordUsage(ctx, used)
      return
    }
    const actual = actualAmounts(admission.checks, used)
    if (counters.settleNow === undefined) return settleAsync(ctx, reservation, counters, actual, used)
    try {
      moved(counters.settleNow(reservation, actual))
    } catch (err) {
      settleFailed(ctx, err)
    }
    recordUsage(ctx, used)
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

export function countedTokens (which: 'total' | 'input' | 'output', input: number, output: number): number {
  return which === 'input' ? input : which === 'output' ? output : input + output
}

