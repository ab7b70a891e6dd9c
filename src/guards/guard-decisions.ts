import type { Finding } from './finding.ts'
import type { DetectorRule, GuardAction } from './guard-policy.ts'
import { GatewayError } from '../errors/gateway-error.ts'

/**
 * What a guard decided, as it goes into the audit record's `guards` field, the
 * `x-portcullis-guards` header and the `portcullis_guard_verdicts_total` metric. Types only,
 * never the matched text: a decision may be read by anyone who reads the audit log.
 */
export interface GuardDecision {
  readonly direction: 'input' | 'output'
  readonly detector: 'pii' | 'secret' | 'injection' | 'guard_model'
  /** `allow`: the detector ran and found nothing its policy acts on. */
  readonly action: 'allow' | 'flag' | 'redact' | 'block'
  /** Public finding types: `pii.email`, `secret.openai`, `injection`, `guard_model.S1`. */
  readonly types: string[]
  /** Time the detector took (PII and secrets share one scan and report its time). */
  readonly ms: number
  /** Injection score / guard model score where there is one. */
  readonly score?: number
  /** Injection signals that fired (names only). */
  readonly signals?: string[]
  /** Why the guard model gave no verdict (`timeout`, `transport`, …). */
  readonly failure?: string
}

/** `email` → `pii.email`; secrets are already `secret.*`. */
export function publicType (finding: Finding): string {
  return finding.detector === 'pii' ? 'pii.' + finding.type : finding.type
}

export interface Classified {
  /** Findings to replace with placeholders. */
  readonly redact: Finding[]
  /** Public types that block, in order of first appearance. */
  readonly blocked: string[]
  readonly decisions: GuardDecision[]
}

const rank: Readonly<Record<GuardAction, number>> = { off: 0, flag: 1, redact: 2, block: 3 }

/**
 * Applies the PII and secret rules to the findings of one scan: one decision per detector and
 * action taken (or `allow` for an active detector with nothing to act on).
 */
// Decisions are written with their keys in sorted order (action, detector, direction, failure,
// ms, score, signals, types): the audit record then serializes them as they are, without a copy.
export function classifyFindings (
  direction: GuardDecision['direction'], findings: readonly Finding[],
  rules: { readonly pii: DetectorRule, readonly secret: DetectorRule }, ms: number
): Classified {
  const redact: Finding[] = []
  const byDetector = new Map<'pii' | 'secret', Map<GuardAction, Set<string>>>()
  for (const f of findings) {
    if (f.detector === 'injection') continue
    const action = rules[f.detector].actionFor(f.type)
    if (action === 'off') continue
    if (action === 'redact') redact.push(f)
    let actions = byDetector.get(f.detector)
    if (actions === undefined) byDetector.set(f.detector, actions = new Map())
    let types = actions.get(action)
    if (types === undefined) actions.set(action, types = new Set())
    types.add(publicType(f))
  }
  const decisions: GuardDecision[] = []
  const blocked: string[] = []
  for (const detector of ['pii', 'secret'] as const) {
    if (!rules[detector].active) continue
    const actions = byDetector.get(detector)
    if (actions === undefined) {
      decisions.push({ action: 'allow', detector, direction, ms, types: [] })
      continue
    }
    for (const [action, types] of [...actions].sort((a, b) => rank[b[0]] - rank[a[0]])) {
      decisions.push({ action: action as GuardDecision['action'], detector, direction, ms, types: [...types] })
      if (action === 'block') blocked.push(...types)
    }
  }
  return { redact, blocked, decisions }
}

/** The types a caller is told about: flagged, redacted or blocked ones, deduplicated. */
export function reportedTypes (decisions: readonly GuardDecision[]): string[] {
  const types = new Set<string>()
  for (const d of decisions) if (d.action !== 'allow') for (const t of d.types) types.add(t)
  return [...types]
}

/** 400 `prompt_blocked` / `content_blocked` naming the finding types, never the matched text. */
export function blockedError (direction: GuardDecision['direction'], types: readonly string[]): GatewayError {
  const list = [...new Set(types)].join(', ')
  return direction === 'input'
    ? new GatewayError('prompt_blocked', { message: `The prompt was blocked by a content policy (${list}).` })
    : new GatewayError('content_blocked', { message: `The response was blocked by a content policy (${list}).` })
}

/** Milliseconds with microsecond precision, as elsewhere in the audit record. */
export function elapsedMs (since: number): number {
  return Math.round((performance.now() - since) * 1000) / 1000
}

/** Response header listing what the guards flagged, redacted or blocked (types only). */
export const guardsHeader = 'x-portcullis-guards'
