import type { Endpoint } from '../pipeline/context.ts'
import type { TextSlot } from './request-texts.ts'
import { createRedactor } from './redactor.ts'
import { piiMatcherGroup } from './pii-detector.ts'
import { pemMaxLength, secretMatcherGroup } from './secret-detector.ts'
import { scanText } from './scan-text.ts'

/**
 * Samples of prompts and completions for the audit record, only where a policy asks
 * (`record_sample`). Every PII and secret value is masked whatever the policy's actions are, and
 * the text is masked BEFORE it is cut, so a key cut in half at the limit is still recognised.
 */

const groups = [piiMatcherGroup(), secretMatcherGroup()]

/**
 * How much completion text is kept before masking: the sample plus the longest value a detector
 * must see whole (an open PEM block), so a value crossing the cut is masked too.
 */
export function sampleCollectLimit (maxChars: number): number {
  return maxChars + pemMaxLength + 128
}

/** `text` with typed placeholders for every PII and secret value, cut to `maxChars`. */
export function maskedSample (text: string, maxChars: number): string {
  const masked = createRedactor().redact(text, scanText(text, groups))
  return masked.length > maxChars ? masked.slice(0, maxChars) : masked
}

/** The prompt as one text: `role: text` lines for chat, the strings for prompts and inputs. */
export function promptSample (endpoint: Endpoint, slots: readonly TextSlot[], maxChars: number): string {
  const limit = sampleCollectLimit(maxChars)
  let text = ''
  for (const slot of slots) {
    if (text.length >= limit) break
    const line = endpoint === 'chat.completions' ? `${slot.role ?? ''}: ${slot.text}` : slot.text
    text += (text === '' ? '' : '\n') + line
  }
  return maskedSample(text.slice(0, limit), maxChars)
}
