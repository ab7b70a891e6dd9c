import type { Endpoint } from '../pipeline/context.ts'
import type { RequestLimits } from './guard-policy.ts'
import type { TextSlot } from './request-texts.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { paramOf } from './request-texts.ts'

function refuse (param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { param, message })
}

/**
 * Checks the request against the policy's shape limits (message count, characters per message,
 * `max_tokens`, roles, tools) before any content is scanned, so an oversized request costs no
 * detector time. Throws 400 `invalid_request` naming the field in `param`; the message states
 * the limit, never the caller's content.
 */
export function checkRequestLimits (limits: RequestLimits, endpoint: Endpoint, body: Record<string, unknown>, slots: readonly TextSlot[]): void {
  const messages = endpoint === 'chat.completions' && Array.isArray(body.messages) ? body.messages as unknown[] : null
  if (limits.maxMessages !== null && messages !== null && messages.length > limits.maxMessages) {
    throw refuse('messages', `At most ${limits.maxMessages} messages are allowed.`)
  }
  if (limits.maxMessageChars !== null) checkChars(limits.maxMessageChars, slots)
  if (limits.maxTokens !== null) {
    for (const field of ['max_tokens', 'max_completion_tokens']) {
      const value = body[field]
      if (typeof value === 'number' && value > limits.maxTokens) throw refuse(field, `${field} may be at most ${limits.maxTokens}.`)
    }
  }
  if (limits.allowedRoles !== null && messages !== null) checkRoles(limits.allowedRoles, messages)
  if (limits.allowedTools !== null) checkTools(limits.allowedTools, body)
}

/** Characters per message: the parts of one message count together. */
function checkChars (max: number, slots: readonly TextSlot[]): void {
  let index = -1
  let total = 0
  for (const slot of slots) {
    const sameMessage = slot.role !== null && slot.index === index
    total = sameMessage ? total + slot.text.length : slot.text.length
    index = slot.index
    if (total > max) {
      const param = slot.role === null ? paramOf(slot) : `messages[${slot.index}].content`
      throw refuse(param, `A message may have at most ${max} characters.`)
    }
  }
}

function checkRoles (allowed: ReadonlySet<string>, messages: readonly unknown[]): void {
  messages.forEach((message, i) => {
    const role = (message as { role?: unknown } | null)?.role
    if (typeof role !== 'string' || !allowed.has(role)) throw refuse(`messages[${i}].role`, `Allowed roles: ${[...allowed].join(', ')}.`)
  })
}

/** `tools[i].function.name` (current API) and `functions[i].name` (deprecated) are both checked. */
function checkTools (allowed: ReadonlySet<string>, body: Record<string, unknown>): void {
  const check = (name: unknown, param: string): void => {
    if (typeof name !== 'string' || !allowed.has(name)) {
      throw refuse(param, allowed.size === 0 ? 'Tools are not allowed.' : 'This tool is not allowed.')
    }
  }
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool: unknown, i) => { check((tool as { function?: { name?: unknown } } | null)?.function?.name, `tools[${i}].function.name`) })
  }
  if (Array.isArray(body.functions)) {
    body.functions.forEach((fn: unknown, i) => { check((fn as { name?: unknown } | null)?.name, `functions[${i}].name`) })
  }
}
