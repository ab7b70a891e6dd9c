import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import type { Endpoint } from '../pipeline/context.ts'

/**
 * Output tokens of a streamed response that ended without the upstream's usage (the client went
 * away, the upstream broke off): the text of every content delta, tool-call argument and
 * completion text, counted with o200k_base. The events' data arrive as raw strings and are parsed
 * only here, at completion and only when needed, so a normal stream pays nothing for it.
 */
export function countStreamedOutput (endpoint: Endpoint, data: readonly string[]): number {
  if (endpoint !== 'chat.completions' && endpoint !== 'completions') return 0
  const parts: string[] = []
  for (const text of data) {
    if (text === '[DONE]') continue
    let event: unknown
    try {
      event = JSON.parse(text)
    } catch {
      continue
    }
    const choices = (event as { choices?: unknown }).choices
    if (!Array.isArray(choices)) continue
    for (const choice of choices) collect(choice, parts)
  }
  return parts.length === 0 ? 0 : countTokens(parts.join(''))
}

function collect (choice: unknown, parts: string[]): void {
  if (typeof choice !== 'object' || choice === null) return
  const { delta, text } = choice as { delta?: unknown, text?: unknown }
  if (typeof text === 'string') parts.push(text)
  if (typeof delta !== 'object' || delta === null) return
  const { content, reasoning_content: reasoning, tool_calls: toolCalls } = delta as Record<string, unknown>
  if (typeof content === 'string') parts.push(content)
  if (typeof reasoning === 'string') parts.push(reasoning)
  if (!Array.isArray(toolCalls)) return
  for (const call of toolCalls) {
    const fn = (call as { function?: { name?: unknown, arguments?: unknown } } | null)?.function
    if (typeof fn?.name === 'string') parts.push(fn.name)
    if (typeof fn?.arguments === 'string') parts.push(fn.arguments)
  }
}
