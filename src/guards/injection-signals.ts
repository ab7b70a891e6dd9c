/**
 * The signals the prompt-injection detector scores, with their default weights. A weight is the
 * probability-like contribution of one signal on its own; signals combine as independent evidence
 * (score = 1 − Π(1 − wᵢ·fᵢ), fᵢ the context factor of the hit), so two weak signals stay below a
 * strong one and no single weak signal reaches the default threshold of 0.5.
 *
 * Names are stable identifiers: they appear in findings (`injection.<signal>`), audit records and
 * metrics labels, and never carry matched text.
 */
export const injectionSignals = [
  'instruction_override',
  'new_instructions',
  'role_impersonation',
  'authority_claim',
  'template_tokens',
  'delimiter_injection',
  'role_json',
  'prompt_extraction',
  'secret_request',
  'data_request',
  'jailbreak_persona',
  'addressed_to_ai',
  'exfiltration',
  'decode_and_execute',
  'encoded_payload'
] as const

export type InjectionSignal = typeof injectionSignals[number]

export const defaultSignalWeights: Readonly<Record<InjectionSignal, number>> = Object.freeze({
  instruction_override: 0.8,
  new_instructions: 0.3,
  role_impersonation: 0.65,
  authority_claim: 0.45,
  template_tokens: 0.85,
  delimiter_injection: 0.45,
  role_json: 0.45,
  prompt_extraction: 0.75,
  secret_request: 0.6,
  data_request: 0.35,
  jailbreak_persona: 0.65,
  addressed_to_ai: 0.4,
  exfiltration: 0.25,
  decode_and_execute: 0.35,
  encoded_payload: 0.35
})

/**
 * One way a signal shows up in normalised (NFKC, folded, lower-cased) text. Every pattern is a
 * global regex built only from literals, classes and *bounded* quantifiers, so matching is linear
 * in the input (no nested or unbounded quantifier that could backtrack catastrophically).
 */
export interface InjectionRule {
  readonly signal: InjectionSignal
  readonly pattern: RegExp
  /** A second pattern that must start within `window` characters after `pattern` ends. */
  readonly then?: RegExp
  readonly window?: number
  /** Tested on the text between the two parts: a hit (e.g. "my", "我的") cancels the match. */
  readonly blocker?: RegExp
  /** Two-part rules: must match the text from the first part to 48 characters after the second. */
  readonly requires?: RegExp
  /** Multiplies the signal weight (e.g. a weaker form of the signal). Default 1. */
  readonly scale?: number
  /** Only counts at the start of a line of the original text (role headers). */
  readonly lineStart?: boolean
  /** Line-start rules: full weight only if the rest of the line matches, else `scale` 0.5. */
  readonly lineNeeds?: RegExp
  /** Quotes and code do not lower this rule's weight (it is about JSON or markup itself). */
  readonly ignoresQuotes?: boolean
}
