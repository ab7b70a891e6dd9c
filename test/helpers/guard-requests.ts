import { randomBytes } from 'node:crypto'
import type { TestGateway } from './start-test-gateway.ts'

/** What a client sees of one proxy call. */
export interface ProxyAnswer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: Record<string, unknown> | null
  readonly requestId: string
}

/** POSTs to a proxy endpoint with the key; reads the whole answer (JSON or SSE text). */
export async function proxyPost (gw: TestGateway, secret: string, path: string, body: Record<string, unknown>): Promise<ProxyAnswer> {
  const res = await fetch(gw.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const text = await res.text()
  let json: Record<string, unknown> | null = null
  try { json = JSON.parse(text) as Record<string, unknown> } catch {}
  return { status: res.status, headers: res.headers, text, json, requestId: res.headers.get('x-request-id') ?? '' }
}

/** A chat completion with one user message (the mock echoes it). */
export async function chat (gw: TestGateway, secret: string, content: string, extra: Record<string, unknown> = {}): Promise<ProxyAnswer> {
  return await proxyPost(gw, secret, '/v1/chat/completions', { model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra })
}

/** The assistant text of a JSON chat answer. */
export function replyOf (answer: ProxyAnswer): string {
  const choices = answer.json?.choices as Array<{ message?: { content?: string }, text?: string }> | undefined
  return choices?.[0]?.message?.content ?? choices?.[0]?.text ?? ''
}

/** The `data:` payloads of an SSE answer, in order. */
export function sseData (text: string): string[] {
  return text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => block.slice(6).replaceAll('\ndata: ', '\n'))
}

/** The concatenated `delta.content` (chat) or `text` (completions) of an SSE answer. */
export function streamedText (text: string): string {
  let out = ''
  for (const data of sseData(text)) {
    if (data === '[DONE]') continue
    const json = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string }, text?: string }> }
    for (const c of json.choices ?? []) out += c.delta?.content ?? c.text ?? ''
  }
  return out
}

/** Fake but well-formed values no test data contains by chance. */
export function canaries (): { email: string, openaiKey: string, awsKey: string } {
  const hex = randomBytes(12).toString('hex')
  return {
    email: `canary.${hex}@example.com`,
    openaiKey: 'sk-proj-' + randomBytes(24).toString('hex'),
    awsKey: 'AKIA' + randomBytes(8).toString('hex').toUpperCase()
  }
}
