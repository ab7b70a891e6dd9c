import type { Endpoint } from '../pipeline/context.ts'
import { createStreamOutputCounter } from './stream-output-counter.ts'

/**
 * Output tokens of a streamed response that ended without the upstream's usage (the client went
 * away, the upstream broke off). The events' data arrive as raw strings and are parsed only here,
 * at completion and only when needed, so a normal stream pays nothing for it.
 */
export function countStreamedOutput (endpoint: Endpoint, model: string, data: readonly string[]): number {
  if (endpoint !== 'chat.completions' && endpoint !== 'completions') return 0
  const counter = createStreamOutputCounter(model)
  for (const text of data) {
    if (text === '[DONE]') continue
    try {
      counter.add(JSON.parse(text))
    } catch {
      // A malformed event carried no countable text.
    }
  }
  return counter.tokens()
}
