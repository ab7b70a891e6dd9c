/**
 * One labelled item of the guard evaluation corpus (eval/guards/corpus/*.jsonl, one JSON object
 * per line). Labels say what a careful human reviewer would flag, not what any detector does.
 */
export interface CorpusItem {
  readonly id: string
  readonly lang: 'en' | 'zh'
  readonly text: string
  readonly labels: {
    /** Does the text try to subvert the assistant's instructions (as a user or tool message)? */
    readonly injection: boolean
    /** PII types present, as `Finding.type` values ('email', 'phone', 'payment_card', …). */
    readonly pii: readonly string[]
    /** Secret types present, as `Finding.type` values ('secret.openai', …). */
    readonly secret: readonly string[]
  }
  /** Category (e.g. `hard:code`, `near-miss:luhn`): reported, never used by a detector. */
  readonly note: string
}
