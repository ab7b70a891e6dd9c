import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_PLAUSIBLE_TOKENS, validateUsage, type UsageEvidence } from './validate-usage.ts'

/** A chat request estimated at 1000 prompt tokens, allowed 500 output tokens, not streamed. */
function evidence (reported: unknown, extra: Partial<UsageEvidence> = {}): UsageEvidence {
  return { reported, estimatedInput: 1000, maxOutput: 500, streamedOutputEstimate: null, ...extra }
}

test('plausible reported usage is billed as reported, without flags', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1040, completion_tokens: 120, total_tokens: 1160 })),
    { inputTokens: 1040, outputTokens: 120, flags: [] })
  // Honest counts a little below ours (another tokenizer) are accepted down to half the estimate.
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 500, completion_tokens: 0 })), { inputTokens: 500, outputTokens: 0, flags: [] })
  // input_tokens/output_tokens (Anthropic, Responses API) are read when OpenAI's names are absent.
  assert.deepEqual(validateUsage(evidence({ input_tokens: 900, output_tokens: 80 })), { inputTokens: 900, outputTokens: 80, flags: [] })
})

test('missing usage bills the local figures: the input estimate and the counted output (or 0)', () => {
  assert.deepEqual(validateUsage(evidence(null)), { inputTokens: 1000, outputTokens: 0, flags: ['usage_missing'] })
  assert.deepEqual(validateUsage(evidence(undefined, { streamedOutputEstimate: 321 })),
    { inputTokens: 1000, outputTokens: 321, flags: ['usage_missing'] })
  assert.deepEqual(validateUsage(evidence({})), { inputTokens: 1000, outputTokens: 0, flags: ['usage_missing'] })
  assert.deepEqual(validateUsage(evidence('lots')), { inputTokens: 1000, outputTokens: 0, flags: ['usage_missing'] })
  assert.deepEqual(validateUsage(evidence([1, 2])), { inputTokens: 1000, outputTokens: 0, flags: ['usage_missing'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 990 })), { inputTokens: 990, outputTokens: 0, flags: ['usage_missing'] })
})

test('a cut stream is billed for what it produced, as counted locally', () => {
  // Client abort mid-stream: the upstream never sent its usage chunk.
  assert.deepEqual(validateUsage(evidence(null, { streamedOutputEstimate: 240 })),
    { inputTokens: 1000, outputTokens: 240, flags: ['usage_missing'] })
})

test('embeddings report no completion tokens, and that is not missing usage', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 8, total_tokens: 8 }, { estimatedInput: 8, maxOutput: 0 })),
    { inputTokens: 8, outputTokens: 0, flags: [] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 8, completion_tokens: 5 }, { estimatedInput: 8, maxOutput: 0 })),
    { inputTokens: 8, outputTokens: 0, flags: ['usage_output_above_max'] })
})

test('non-numeric counts are replaced by the local figures', () => {
  for (const bad of ['1000', true, {}, [3], Number.NaN, Infinity, -Infinity]) {
    assert.deepEqual(validateUsage(evidence({ prompt_tokens: bad, completion_tokens: bad }, { streamedOutputEstimate: 50 })),
      { inputTokens: 1000, outputTokens: 50, flags: ['usage_non_numeric'] }, String(bad))
  }
})

test('negative counts cannot refund quota', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: -1_000_000, completion_tokens: -5 }, { streamedOutputEstimate: 70 })),
    { inputTokens: 1000, outputTokens: 70, flags: ['usage_negative'] })
})

test('fractional counts are rounded up', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 999.2, completion_tokens: 10.5 })),
    { inputTokens: 1000, outputTokens: 11, flags: ['usage_non_integer'] })
})

test('absurd input is clamped to 4 × the estimate + 1000, and to 10M', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 5000, completion_tokens: 1 })), { inputTokens: 5000, outputTokens: 1, flags: [] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 5001, completion_tokens: 1 })),
    { inputTokens: 5000, outputTokens: 1, flags: ['usage_absurd'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 2 ** 60, completion_tokens: 1 })),
    { inputTokens: 5000, outputTokens: 1, flags: ['usage_absurd'] })
  const huge = validateUsage(evidence({ prompt_tokens: 50_000_000, completion_tokens: 1 }, { estimatedInput: 5_000_000 }))
  assert.deepEqual(huge, { inputTokens: MAX_PLAUSIBLE_TOKENS, outputTokens: 1, flags: ['usage_absurd'] })
})

test('absurd output is clamped to the allowed output, or to 10M when none is known', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 2 ** 40 })),
    { inputTokens: 1000, outputTokens: 500, flags: ['usage_absurd'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 2 ** 40 }, { maxOutput: null })),
    { inputTokens: 1000, outputTokens: MAX_PLAUSIBLE_TOKENS, flags: ['usage_absurd'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 9_000_000 }, { maxOutput: null })),
    { inputTokens: 1000, outputTokens: 9_000_000, flags: [] })
})

test('output above what the request allowed is clamped to it', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 501 })),
    { inputTokens: 1000, outputTokens: 500, flags: ['usage_output_above_max'] })
})

test('input below half the estimate is raised to that floor', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 499, completion_tokens: 10 })),
    { inputTokens: 500, outputTokens: 10, flags: ['usage_input_below_estimate'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 0, completion_tokens: 0 }, { estimatedInput: 1001 })),
    { inputTokens: 500, outputTokens: 0, flags: ['usage_input_below_estimate'] })
})

test('the media allowance is left out of the input floor but not out of the ceiling', () => {
  // 1000 estimated = 235 text + 765 for an image the upstream priced at low detail (85).
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 320, completion_tokens: 1 }, { estimatedMediaInput: 765 })),
    { inputTokens: 320, outputTokens: 1, flags: [] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 100, completion_tokens: 1 }, { estimatedMediaInput: 765 })),
    { inputTokens: 117, outputTokens: 1, flags: ['usage_input_below_estimate'] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 5001, completion_tokens: 1 }, { estimatedMediaInput: 765 })),
    { inputTokens: 5000, outputTokens: 1, flags: ['usage_absurd'] })
})

test('output below half the locally counted output is raised to that floor', () => {
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 100 }, { streamedOutputEstimate: 200 })),
    { inputTokens: 1000, outputTokens: 100, flags: [] })
  assert.deepEqual(validateUsage(evidence({ prompt_tokens: 1000, completion_tokens: 1 }, { streamedOutputEstimate: 300 })),
    { inputTokens: 1000, outputTokens: 150, flags: ['usage_output_below_estimate'] })
})

test('several problems at once are all flagged, each once', () => {
  const result = validateUsage(evidence({ prompt_tokens: -3, completion_tokens: 'many' }, { streamedOutputEstimate: 12 }))
  assert.deepEqual(result, { inputTokens: 1000, outputTokens: 12, flags: ['usage_negative', 'usage_non_numeric'] })
  const twice = validateUsage(evidence({ prompt_tokens: 1.5, completion_tokens: 2.5 }, { estimatedInput: 2 }))
  assert.deepEqual(twice, { inputTokens: 2, outputTokens: 3, flags: ['usage_non_integer'] })
})

test('nonsense evidence still yields non-negative integers', () => {
  const result = validateUsage({ reported: null, estimatedInput: Number.NaN, maxOutput: -4, streamedOutputEstimate: -1 })
  assert.deepEqual(result, { inputTokens: 0, outputTokens: 0, flags: ['usage_missing'] })
  const fractional = validateUsage({ reported: null, estimatedInput: 10.2, maxOutput: null, streamedOutputEstimate: 3.1 })
  assert.deepEqual(fractional, { inputTokens: 11, outputTokens: 4, flags: ['usage_missing'] })
})
