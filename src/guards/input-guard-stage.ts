import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { Finding } from './finding.ts'
import type { GuardModelClient } from './guard-model-client.ts'
import type { GuardPolicies, GuardPolicy } from './guard-policy.ts'
import type { GuardSession } from './guard-session.ts'
import type { ChatMessageLike } from './injection-detector.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { blockedError, classifyFindings, elapsedMs, guardsHeader, reportedTypes, type GuardDecision } from './guard-decisions.ts'
import { checkRequestLimits } from './request-limits.ts'
import { requestTexts, rewriteTexts, untrustedTexts, type TextSlot } from './request-texts.ts'
import { promptSample } from './record-sample.ts'
import { createRedactor, mergeOverlaps, type Redactor } from './redactor.ts'
import { scanNormalized } from './scan-text.ts'
import { normalize, type NormalizedText } from './normalize.ts'

export interface InputGuardOptions {
  readonly policies: GuardPolicies
  /** Null when no guard model is configured. */
  readonly guardModel: GuardModelClient | null
  readonly sessions: WeakMap<RequestContext, GuardSession>
  /** Counts one verdict (metrics); a no-op when metrics are off. */
  readonly verdict: (detector: string, action: string) => void
}

/**
 * Input guards, after authorize and limits, before route: request limits, then PII and secrets
 * (one normalisation for both), prompt injection, and the guard model when configured. `block`
 * refuses with 400 `prompt_blocked` naming the finding types; `redact` rewrites `ctx.body` so the
 * upstream never sees the value; `flag` passes with the `x-portcullis-guards` header. Every
 * decision goes into `ctx.guards` (the audit record) and the verdict metric.
 */
export function createInputGuardStage (options: InputGuardOptions): Stage {
  const { policies, guardModel, sessions, verdict } = options

  return {
    name: 'input-guards',
    async onRequest (ctx) {
      const body = ctx.body
      if (body === null || ctx.endpoint === 'models') return
      const policy = policies.resolve(ctx.principal)
      const slots = requestTexts(ctx.endpoint, body)
      checkRequestLimits(policy.limits, ctx.endpoint, body, slots)
      const session: GuardSession = { policy, decisions: [], restorer: null }
      sessions.set(ctx, session)
      ctx.guards = session.decisions
      if (policy.sample !== null) ctx.sample = { prompt: promptSample(ctx.endpoint, slots, policy.sample.maxChars), completion: null }
      const decisions: GuardDecision[] = []
      try {
        // Each text is normalised once, for PII, secrets and the injection detector alike.
        const normalized = new Map<string, NormalizedText>()
        const normalizedOf = (text: string): NormalizedText => {
          let n = normalized.get(text)
          if (n === undefined) normalized.set(text, n = normalize(text))
          return n
        }
        const redactions = scanContent(policy, untrustedTexts(slots), decisions, normalizedOf)
        injection(ctx, policy, slots, decisions, normalizedOf)
        const blocked = decisions.filter((d) => d.action === 'block')
        if (blocked.length > 0) throw blockedError('input', blocked.flatMap((d) => d.types))
        if (redactions.size > 0) session.restorer = applyRedactions(ctx, policy, redactions)
        if (policy.input.guardModel !== 'off' && guardModel !== null && ctx.endpoint !== 'embeddings') {
          await askGuardModel(ctx, guardModel, policy.input.guardModel, decisions)
        }
      } finally {
        for (const d of decisions) {
          session.decisions.push(d)
          verdict(d.detector, d.action)
        }
      }
      const types = reportedTypes(decisions)
      if (types.length > 0) ctx.responseHeaders[guardsHeader] = types.join(',')
    }
  }
}

/** Scans PII and secrets; returns the findings to redact per text slot. */
function scanContent (policy: GuardPolicy, slots: readonly TextSlot[], decisions: GuardDecision[], normalizedOf: (text: string) => NormalizedText): Map<TextSlot, Finding[]> {
  const { groups, pii, secret } = policy.input
  const redactions = new Map<TextSlot, Finding[]>()
  if (groups.length === 0) return redactions
  const started = performance.now()
  const all: Finding[] = []
  for (const slot of slots) {
    const findings = scanNormalized(normalizedOf(slot.text), groups)
    if (findings.length === 0) continue
    all.push(...findings)
    const redact = findings.filter((f) => f.detector !== 'injection' && policy.input[f.detector].actionFor(f.type) === 'redact')
    if (redact.length > 0) redactions.set(slot, redact)
  }
  decisions.push(...classifyFindings('input', all, { pii, secret }, elapsedMs(started)).decisions)
  return redactions
}

/** Scores user and tool messages (chat) or the prompt (completions); embeddings are not instructions. */
function injection (ctx: RequestContext, policy: GuardPolicy, slots: readonly TextSlot[], decisions: GuardDecision[], normalizedOf: (text: string) => NormalizedText): void {
  const rule = policy.input.injection
  if (rule === null || ctx.endpoint === 'embeddings') return
  const started = performance.now()
  let score = 0
  let flagged = false
  const signals = new Set<string>()
  if (ctx.endpoint === 'chat.completions') {
    const result = rule.detector.analyzeMessages((ctx.body?.messages ?? []) as ChatMessageLike[], normalizedOf)
    score = result.score
    flagged = result.flagged
    for (const m of result.messages) if (m.flagged) for (const s of m.signals) signals.add(s)
  } else {
    for (const slot of slots) {
      const result = rule.detector.analyze(slot.text, normalizedOf(slot.text))
      score = Math.max(score, result.score)
      if (result.flagged) {
        flagged = true
        for (const s of result.signals) signals.add(s)
      }
    }
  }
  const ms = elapsedMs(started)
  decisions.push(flagged
    ? { action: rule.action, detector: 'injection', direction: 'input', ms, score, signals: [...signals], types: ['injection'] }
    : { action: 'allow', detector: 'injection', direction: 'input', ms, score, types: [] })
}

/**
 * Replaces redacted values with placeholders in `ctx.body`. Values of a detector whose rule says
 * `restore` get their placeholder from a redactor that the output stage uses to put them back;
 * the others from one that is dropped with the request.
 */
function applyRedactions (ctx: RequestContext, policy: GuardPolicy, redactions: ReadonlyMap<TextSlot, Finding[]>): Redactor | null {
  const restorable = createRedactor()
  const oneWay = createRedactor()
  const replacements = new Map<TextSlot, string>()
  for (const [slot, findings] of redactions) {
    let out = ''
    let at = 0
    for (const f of mergeOverlaps(findings)) {
      const redactor = f.detector !== 'injection' && policy.input[f.detector].restore ? restorable : oneWay
      const value = slot.text.slice(f.start, f.end)
      out += slot.text.slice(at, f.start) + redactor.redact(value, [{ ...f, start: 0, end: value.length }])
      at = f.end
    }
    replacements.set(slot, out + slot.text.slice(at))
  }
  ctx.body = rewriteTexts(ctx.body as Record<string, unknown>, replacements)
  return restorable.size > 0 ? restorable : null
}

/**
 * Second opinion on the (already redacted) conversation. An unparseable or failed call follows
 * `on_failure`: fail closed refuses with 503 (the guard is down, the prompt is not at fault) when
 * the action is `block`, and flags when it is `flag`; fail open records the failure and passes.
 */
async function askGuardModel (ctx: RequestContext, client: GuardModelClient, action: 'block' | 'flag', decisions: GuardDecision[]): Promise<void> {
  const body = ctx.body as Record<string, unknown>
  const messages = ctx.endpoint === 'chat.completions'
    ? body.messages as ChatMessageLike[]
    : [{ role: 'user', content: requestTexts(ctx.endpoint, body).map((s) => s.text).join('\n') }]
  const result = await client.check(messages)
  // Keys in sorted order, as classifyFindings writes them.
  const decision = (verdict: GuardDecision['action'], types: string[], failure?: string): GuardDecision => ({
    action: verdict,
    detector: 'guard_model',
    direction: 'input',
    ...(failure === undefined ? {} : { failure }),
    ms: result.latencyMs,
    ...(result.score === null ? {} : { score: result.score }),
    types
  })
  if (result.verdict === 'error') {
    const failure = result.failure ?? 'transport'
    decisions.push(decision(result.flagged ? action : 'allow', result.flagged ? ['guard_model.error'] : [], failure))
    if (result.flagged && action === 'block') {
      throw new GatewayError('service_unavailable', { message: 'The content guard is unavailable, so the request was refused. Retry later.' })
    }
    return
  }
  if (!result.flagged) {
    decisions.push(decision('allow', []))
    return
  }
  const types = result.categories.length === 0 ? ['guard_model'] : result.categories.map((c) => 'guard_model.' + c.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 32))
  decisions.push(decision(action, types))
  if (action === 'block') throw blockedError('input', types)
}
