/**
 * Turns the usage an upstream reports into the usage that is billed. The upstream is trusted to
 * say a request cost more than the gateway counted, within reason, but never less than the local
 * evidence: a buggy or hostile upstream cannot refund quota, and one absurd number cannot wreck a
 * budget. Every correction is flagged, for the audit record and for alerts.
 */

/** Flags a settlement can carry; each appears at most once. */
export type UsageFlag =
  /** No usage object, or a count missing from it: the local estimate is billed. */
  | 'usage_missing'
  /** A count that is not a finite number (a string, NaN, Infinity …): the local estimate is billed. */
  | 'usage_non_numeric'
  /** A negative count: the local estimate is billed. */
  | 'usage_negative'
  /** A fractional count: rounded up. */
  | 'usage_non_integer'
  /** Above MAX_PLAUSIBLE_TOKENS, or input above the plausible ceiling: clamped to the ceiling. */
  | 'usage_absurd'
  /** Input below half the local estimate: raised to that floor. */
  | 'usage_input_below_estimate'
  /** Output above what the request allowed: clamped to it. */
  | 'usage_output_above_max'
  /** Output below half the locally counted output: raised to that floor. */
  | 'usage_output_below_estimate'

export interface UsageEvidence {
  /** The upstream's `usage` object (OpenAI `prompt_tokens`/`completion_tokens`, or `input_tokens`/`output_tokens`), or null. */
  readonly reported: unknown
  /** estimatePromptTokens of the request. */
  readonly estimatedInput: number
  /**
   * The part of estimatedInput that is a media allowance rather than a count (estimatePrompt's
   * `mediaTokens`); it is left out of the input floor. Default 0.
   */
  readonly estimatedMediaInput?: number
  /** The output the request could produce (requestedMaxTokens, or the configured cap); 0 for embeddings; null: unknown. */
  readonly maxOutput: number | null
  /**
   * Output counted locally (StreamOutputCounter), or null when nothing was counted. A non-streamed
   * response may be counted too (add its body to a counter) so missing usage is not billed as 0.
   */
  readonly streamedOutputEstimate: number | null
}

export interface ValidatedUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly flags: UsageFlag[]
}

/** Same bound as upstream-usage.ts: no single response plausibly has more. */
export const MAX_PLAUSIBLE_TOKENS = 10_000_000
/**
 * Input may be up to 4× the estimate + 1000 before it is absurd: other tokenizers, hidden system
 * prompts and tool formatting make upstream counts larger than ours, but not by that much.
 */
const INPUT_CEILING_FACTOR = 4
const INPUT_CEILING_SLACK = 1000
/**
 * Reported counts down to half the local count are accepted: providers tokenize differently
 * (Llama, Qwen or Claude vocabularies, the approximation factor for them), and an honest count
 * below ours is common. Below half, the report contradicts the evidence and the floor is billed.
 */
const FLOOR_FACTOR = 0.5

type Reading = { value: number } | { flag: UsageFlag }

/** Reads one count: a usable non-negative integer, or why it is not. */
function read (usage: Record<string, unknown> | null, names: readonly string[], flags: Set<UsageFlag>): Reading {
  if (usage === null) return { flag: 'usage_missing' }
  const name = names.find((candidate) => usage[candidate] !== undefined && usage[candidate] !== null)
  if (name === undefined) return { flag: 'usage_missing' }
  const value = usage[name]
  if (typeof value !== 'number' || !Number.isFinite(value)) return { flag: 'usage_non_numeric' }
  if (value < 0) return { flag: 'usage_negative' }
  if (!Number.isInteger(value)) {
    flags.add('usage_non_integer')
    return { value: Math.ceil(value) }
  }
  return { value }
}

function wholeOrZero (value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.ceil(value) : 0
}

function settleInput (reading: Reading, evidence: UsageEvidence, flags: Set<UsageFlag>): number {
  const estimate = wholeOrZero(evidence.estimatedInput)
  if ('flag' in reading) {
    flags.add(reading.flag)
    return estimate
  }
  let input = reading.value
  const ceiling = Math.min(estimate * INPUT_CEILING_FACTOR + INPUT_CEILING_SLACK, MAX_PLAUSIBLE_TOKENS)
  if (input > ceiling) {
    flags.add('usage_absurd')
    input = ceiling
  }
  const measured = Math.max(0, estimate - wholeOrZero(evidence.estimatedMediaInput))
  const floor = Math.floor(measured * FLOOR_FACTOR)
  if (input < floor) {
    flags.add('usage_input_below_estimate')
    input = floor
  }
  return input
}

function settleOutput (reading: Reading, evidence: UsageEvidence, flags: Set<UsageFlag>): number {
  const counted = evidence.streamedOutputEstimate === null ? null : wholeOrZero(evidence.streamedOutputEstimate)
  const max = evidence.maxOutput === null ? null : wholeOrZero(evidence.maxOutput)
  if ('flag' in reading) {
    // Embeddings report no completion tokens: nothing is missing when no output was possible.
    if (!(max === 0 && reading.flag === 'usage_missing')) flags.add(reading.flag)
    return counted ?? 0
  }
  let output = reading.value
  if (output > MAX_PLAUSIBLE_TOKENS) {
    flags.add('usage_absurd')
    output = max ?? MAX_PLAUSIBLE_TOKENS
  }
  if (max !== null && output > max) {
    flags.add('usage_output_above_max')
    output = max
  }
  if (counted !== null && output < Math.floor(counted * FLOOR_FACTOR)) {
    flags.add('usage_output_below_estimate')
    output = Math.floor(counted * FLOOR_FACTOR)
  }
  return output
}

/**
 * The usage to bill. Input: the reported count, clamped to at most 4× the estimate + 1000 (and
 * MAX_PLAUSIBLE_TOKENS) and at least half the estimate's counted (non-media) part. Output: the
 * reported count, clamped to maxOutput and at least half the locally counted output. A count
 * that is missing or unusable is replaced by the local figure (input estimate; counted output,
 * else 0). Never throws; the result is always non-negative integers.
 */
export function validateUsage (evidence: UsageEvidence): ValidatedUsage {
  const flags = new Set<UsageFlag>()
  const reported = evidence.reported
  const usage = typeof reported === 'object' && reported !== null && !Array.isArray(reported)
    ? reported as Record<string, unknown>
    : null
  const inputTokens = settleInput(read(usage, ['prompt_tokens', 'input_tokens'], flags), evidence, flags)
  const outputTokens = settleOutput(read(usage, ['completion_tokens', 'output_tokens'], flags), evidence, flags)
  return { inputTokens, outputTokens, flags: [...flags] }
}
