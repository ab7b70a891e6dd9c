import type { BudgetMovement } from './counter-store.ts'

/** A budget crossed 50 %, 80 % or 100 % of its limit (for the alerting issue). */
export interface BudgetEvent {
  readonly type: 'budget_threshold'
  /** The counter key: `bg:<policy>:<period>`. */
  readonly budget: string
  readonly threshold: 0.5 | 0.8 | 1
  readonly spentMicroUsd: number
  readonly limitMicroUsd: number
  readonly at: number
}

const thresholds = [0.5, 0.8, 1] as const

/** Each threshold a settlement carried the spend across, once (a spend moving down crosses none). */
export function budgetCrossings (movements: readonly BudgetMovement[], at = Date.now()): BudgetEvent[] {
  const events: BudgetEvent[] = []
  for (const m of movements) {
    for (const threshold of thresholds) {
      const line = m.limit * threshold
      if (m.before < line && m.after >= line) {
        events.push({ type: 'budget_threshold', budget: m.key, threshold, spentMicroUsd: m.after, limitMicroUsd: m.limit, at })
      }
    }
  }
  return events
}
