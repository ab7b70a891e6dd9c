import { getCACertificates } from 'node:tls'
import { Agent, type Dispatcher } from 'undici'
import { parseVerdict } from './guard-model-verdict.ts'
import { textOf, type ChatMessageLike } from './injection-detector.ts'

/**
 * A second opinion from a guard model (Llama Guard, Prompt Guard, …) served behind an
 * OpenAI-compatible chat endpoint such as vLLM. The endpoint is operator configuration, never
 * taken from a request, so it is not an SSRF vector; still, TLS is always verified (a private CA
 * can be added, verification cannot be turned off) and redirects are never followed (undici's
 * `request` does not follow them; a 3xx is an error), so a compromised endpoint cannot bounce
 * the prompt elsewhere.
 *
 * Every failure (timeout, transport error, non-2xx, oversized or unparseable answer) resolves to
 * a verdict under the configured policy: `fail_closed` flags the message, `fail_open` lets it
 * pass. The prompt and the endpoint's key never appear in an error or a log line.
 */
export interface GuardModelOptions {
  /** Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:8000/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string
  readonly model: string
  /** Sent as `Authorization: Bearer …` when set (already resolved from a secret reference). */
  readonly apiKey?: string | null
  /** Whole-call budget (connect + answer). Default 2000 ms. */
  readonly timeoutMs?: number
  readonly onFailure?: 'fail_open' | 'fail_closed'
  /** Prompt Guard style scores below this are benign. Default 0.5. */
  readonly scoreThreshold?: number
  /** Extra PEM CA bundle for a guard endpoint with a private CA. */
  readonly caPem?: string | null
}

export type GuardFailure = 'timeout' | 'transport' | 'http_status' | 'too_large' | 'unparseable'

export interface GuardVerdict {
  /** `error`: the model gave no usable verdict; `flagged` then follows the failure policy. */
  readonly verdict: 'safe' | 'unsafe' | 'error'
  readonly flagged: boolean
  readonly categories: string[]
  readonly score: number | null
  readonly failure: GuardFailure | null
  readonly latencyMs: number
}

export interface GuardModelClient {
  check (messages: readonly ChatMessageLike[]): Promise<GuardVerdict>
  close (): Promise<void>
}

const MAX_ANSWER_BYTES = 64 * 1024

export function createGuardModelClient (options: GuardModelOptions): GuardModelClient {
  const base = new URL(options.baseUrl)
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('guard model: baseUrl must be http(s)')
  if (base.username !== '' || base.password !== '') throw new Error('guard model: credentials in baseUrl are not allowed; use apiKey')
  const path = base.pathname.replace(/\/+$/, '') + '/chat/completions'
  const timeoutMs = options.timeoutMs ?? 2000
  const failClosed = (options.onFailure ?? 'fail_closed') === 'fail_closed'
  const agent = new Agent({
    connect: {
      timeout: timeoutMs,
      rejectUnauthorized: true,
      ...(options.caPem == null ? {} : { ca: [...getCACertificates('default'), options.caPem] })
    }
  })
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'portcullis-guard' }
  if (options.apiKey != null) headers.authorization = `Bearer ${options.apiKey}`

  async function check (messages: readonly ChatMessageLike[]): Promise<GuardVerdict> {
    const started = performance.now()
    const done = (verdict: Omit<GuardVerdict, 'latencyMs'>): GuardVerdict => ({ ...verdict, latencyMs: Math.round(performance.now() - started) })
    const failed = (failure: GuardFailure): GuardVerdict => done({ verdict: 'error', flagged: failClosed, categories: [], score: null, failure })
    const body = JSON.stringify({
      model: options.model,
      // The guard classifies the conversation as the caller sent it; content parts become text.
      messages: messages.map((m) => ({ role: m.role, content: textOf(m.content) })),
      temperature: 0,
      max_tokens: 32
    })
    let content: string
    try {
      const response = await agent.request({ origin: base.origin, path, method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) })
      if (response.statusCode < 200 || response.statusCode > 299) {
        await response.body.dump()
        return failed('http_status')
      }
      const answer = await readLimited(response.body)
      if (answer === null) return failed('too_large')
      content = contentOf(answer)
    } catch (err) {
      return failed(isTimeout(err) ? 'timeout' : 'transport')
    }
    const parsed = parseVerdict(content, options.scoreThreshold ?? 0.5)
    if (parsed === null) return failed('unparseable')
    return done({ verdict: parsed.unsafe ? 'unsafe' : 'safe', flagged: parsed.unsafe, categories: parsed.categories, score: parsed.score, failure: null })
  }

  return { check, close: async () => { await agent.close() } }
}

async function readLimited (body: Dispatcher.ResponseData['body']): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > MAX_ANSWER_BYTES) {
      body.destroy()
      return null
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** `choices[0].message.content` of a chat completion, or '' (then unparseable). */
function contentOf (answer: string): string {
  try {
    const json = JSON.parse(answer) as { choices?: Array<{ message?: { content?: unknown } }> }
    const content = json.choices?.[0]?.message?.content
    return typeof content === 'string' ? content : ''
  } catch {
    return ''
  }
}

function isTimeout (err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name
  return name === 'TimeoutError' || name === 'AbortError' || name === 'ConnectTimeoutError' ||
    (err as { code?: unknown } | null)?.code === 'UND_ERR_CONNECT_TIMEOUT'
}
