import type { GuardDecision } from './guard-decisions.ts'
import type { GuardPolicy } from './guard-policy.ts'
import type { Redactor } from './redactor.ts'

/**
 * What the input guard stage hands to the output guard stage for one request. It stays in a
 * WeakMap private to the two stages (built together by build-guards.ts) rather than on the
 * request context: the redactor's vault holds the caller's original values, and no other stage,
 * log or record may reach it.
 */
export interface GuardSession {
  readonly policy: GuardPolicy
  /** The same array as `ctx.guards`: output decisions are appended to it. */
  readonly decisions: GuardDecision[]
  /** Puts values redacted on input back into the answer; null when nothing is to be restored. */
  restorer: Redactor | null
}

/** Placeholders of output redaction are `[REDACTED_EMAIL_1]`, so they never collide with input ones that `restore` would replace. */
export const outputTypePrefix = 'redacted.'
