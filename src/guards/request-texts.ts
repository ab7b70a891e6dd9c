import type { Endpoint } from '../pipeline/context.ts'

/**
 * Where the caller's text sits in an OpenAI request body, so the input guards can scan it and
 * the redactor can rewrite exactly those strings (nothing else in the body is touched).
 *
 * - chat: `messages[i].content` (a string, or the `text` of each content part);
 * - completions: `prompt` (a string or an array of strings; token arrays carry no text);
 * - embeddings: `input` (the same).
 */
export interface TextSlot {
  readonly text: string
  /** Path from the body root, e.g. `['messages', 2, 'content', 0, 'text']`. */
  readonly path: ReadonlyArray<string | number>
  /** Message role for chat, null for prompts and inputs. */
  readonly role: string | null
  /** Message index for chat (for `param`), else the array index or 0. */
  readonly index: number
}

/** Roles whose text the application itself sets; PII and secrets are looked for everywhere else. */
const trustedRoles = new Set(['system', 'developer'])

/** Every text of the caller in `body`, in order. */
export function requestTexts (endpoint: Endpoint, body: Record<string, unknown>): TextSlot[] {
  if (endpoint === 'chat.completions') return messageTexts(body.messages)
  if (endpoint === 'completions') return stringsAt(body.prompt, 'prompt')
  if (endpoint === 'embeddings') return stringsAt(body.input, 'input')
  return []
}

/** Texts the PII and secret guards scan: every message but `system`/`developer` ones. */
export function untrustedTexts (slots: readonly TextSlot[]): TextSlot[] {
  return slots.filter((s) => s.role === null || !trustedRoles.has(s.role))
}

function messageTexts (messages: unknown): TextSlot[] {
  const slots: TextSlot[] = []
  if (!Array.isArray(messages)) return slots
  messages.forEach((message: unknown, i) => {
    if (message === null || typeof message !== 'object') return
    const { role, content } = message as { role?: unknown, content?: unknown }
    const r = typeof role === 'string' ? role : ''
    if (typeof content === 'string') {
      slots.push({ text: content, path: ['messages', i, 'content'], role: r, index: i })
    } else if (Array.isArray(content)) {
      content.forEach((part: unknown, j) => {
        const text = (part as { text?: unknown } | null)?.text
        if (typeof text === 'string') slots.push({ text, path: ['messages', i, 'content', j, 'text'], role: r, index: i })
      })
    }
  })
  return slots
}

function stringsAt (value: unknown, field: string): TextSlot[] {
  if (typeof value === 'string') return [{ text: value, path: [field], role: null, index: 0 }]
  if (!Array.isArray(value)) return []
  const slots: TextSlot[] = []
  value.forEach((item: unknown, i) => {
    if (typeof item === 'string') slots.push({ text: item, path: [field, i], role: null, index: i })
  })
  return slots
}

/**
 * Returns `body` with the string at each slot's path replaced, copying only the containers on
 * those paths (the parsed body may be shared with the record of what was authorised).
 */
export function rewriteTexts (body: Record<string, unknown>, replacements: ReadonlyMap<TextSlot, string>): Record<string, unknown> {
  let root: Record<string, unknown> = { ...body }
  const copied = new Set<unknown>([root])
  for (const [slot, text] of replacements) root = setAt(root, slot.path, text, copied)
  return root
}

function setAt (root: Record<string, unknown>, path: ReadonlyArray<string | number>, value: string, copied: Set<unknown>): Record<string, unknown> {
  type Container = Record<string | number, unknown>
  let node = root as Container
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number
    let child = node[key]
    if (!copied.has(child)) {
      child = Array.isArray(child) ? [...child] : { ...(child as object) }
      copied.add(child)
      node[key] = child
    }
    node = child as Container
  }
  node[path[path.length - 1] as string | number] = value
  return root
}

/** `messages[2].content`, `prompt[1]`: the OpenAI `param` naming a slot. */
export function paramOf (slot: TextSlot): string {
  let param = String(slot.path[0])
  for (let i = 1; i < slot.path.length; i++) {
    const part = slot.path[i] as string | number
    param += typeof part === 'number' ? `[${part}]` : `.${part}`
  }
  return param
}
