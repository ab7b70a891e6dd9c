import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { SseEvent } from '../upstream/provider.ts'
import type { Finding } from './finding.ts'
import type { GuardSession } from './guard-session.ts'
import { blockedError, classifyFindings, elapsedMs, guardsHeader, reportedTypes } from './guard-decisions.ts'
import { createOutputStreamGuard, forOutput, type OutputStreamGuard } from './output-stream-guard.ts'
import { maskedSample } from './record-sample.ts'
import { createRedactor } from './redactor.ts'
import { scanText } from './scan-text.ts'

export interface OutputGuardOptions {
  readonly sessions: WeakMap<RequestContext, GuardSession>
  readonly verdict: (detector: string, action: string) => void
}

type Json = Record<string, unknown>

/**
 * Output guards, after forward. JSON answers are scanned whole in `onResponseHead`; streams in
 * `onChunk`, per choice, through a stream scanner (output-stream-guard.ts). `block` answers 400
 * `content_blocked`, or — once the stream has started — ends it with one error event; `redact`
 * rewrites the text before the client sees it; values redacted on input with `restore` are put
 * back. Held-back text is flushed into the choice's finish chunk, else in one event before
 * `[DONE]`, else when the upstream closes. Requests with nothing to do cost one WeakMap lookup
 * per event.
 */
export function createOutputGuardStage (options: OutputGuardOptions): Stage {
  const { sessions, verdict } = options
  const streams = new WeakMap<RequestContext, { guard: OutputStreamGuard, template: Json | null }>()

  return {
    name: 'output-guards',
    onResponseHead (ctx) {
      const session = sessions.get(ctx)
      const response = ctx.upstream
      if (session === undefined || response === null || ctx.endpoint === 'embeddings' || ctx.endpoint === 'models') return
      const { policy } = session
      if (policy.output.groups.length === 0 && session.restorer === null && policy.sample === null) return
      if (response.kind === 'stream') {
        streams.set(ctx, { guard: createOutputStreamGuard(policy, session.restorer, policy.sample?.maxChars ?? null), template: null })
        return
      }
      guardJson(ctx, session, response as { body: unknown }, verdict)
    },

    onChunk (ctx, event) {
      const stream = streams.get(ctx)
      if (stream === undefined) return event
      const json = event.json
      if (json === null || typeof json !== 'object' || !Array.isArray((json as Json).choices)) return event
      stream.template = json as Json
      return rewriteChunk(ctx, stream.guard, event, json as Json)
    },

    onStreamEnd (ctx) {
      const stream = streams.get(ctx)
      return stream === undefined ? null : flush(ctx, stream)
    },

    onComplete (ctx) {
      const stream = streams.get(ctx)
      if (stream === undefined) return
      streams.delete(ctx)
      const session = sessions.get(ctx)
      if (session === undefined) return
      for (const d of stream.guard.decisions()) {
        session.decisions.push(d)
        verdict(d.detector, d.action)
      }
      const sample = session.policy.sample
      if (sample !== null && ctx.sample !== null) ctx.sample.completion = maskedSample(stream.guard.collected, sample.maxChars)
    }
  }
}

/** Chat: `choices[].delta.content`; completions: `choices[].text`. */
function rewriteChunk (ctx: RequestContext, guard: OutputStreamGuard, event: SseEvent, json: Json): SseEvent | null {
  const chat = ctx.endpoint === 'chat.completions'
  let changed = false
  let keep = false
  const choices = (json.choices as unknown[]).map((raw) => {
    const choice = raw as Json
    const index = typeof choice.index === 'number' ? choice.index : 0
    const delta = chat ? (choice.delta ?? {}) as Json : null
    const text = delta === null ? choice.text : delta.content
    let released = typeof text === 'string' && text !== '' ? guard.push(index, text) : ''
    const finished = choice.finish_reason !== null && choice.finish_reason !== undefined
    if (finished) released += guard.end(index)
    if (typeof text !== 'string' && released === '') {
      keep = true
      return choice
    }
    if (released !== text) changed = true
    const others = delta === null ? choice.logprobs != null : Object.keys(delta).some((k) => k !== 'content') || choice.logprobs != null
    if (released !== '' || finished || others) keep = true
    return delta === null ? { ...choice, text: released } : { ...choice, delta: { ...delta, content: released } }
  })
  if (!changed) return event
  // A chunk whose only payload was text the scanner still holds back is dropped, not sent empty.
  if (!keep) return null
  const rewritten = { ...json, choices }
  return { event: event.event, data: JSON.stringify(rewritten), json: rewritten }
}

/** Events carrying what the choices still hold back, modelled on the last chunk seen. */
function flush (ctx: RequestContext, stream: { guard: OutputStreamGuard, template: Json | null }): SseEvent[] {
  const events: SseEvent[] = []
  const chat = ctx.endpoint === 'chat.completions'
  for (const index of stream.guard.pending()) {
    const text = stream.guard.end(index)
    if (text === '') continue
    const { choices: _choices, usage: _usage, ...head } = stream.template ?? {}
    const choice = chat
      ? { index, delta: { content: text }, logprobs: null, finish_reason: null }
      : { text, index, logprobs: null, finish_reason: null }
    const json = { ...head, choices: [choice] }
    events.push({ event: null, data: JSON.stringify(json), json })
  }
  return events
}

/** A whole JSON answer: scan every choice, block or redact, restore, sample. */
function guardJson (ctx: RequestContext, session: GuardSession, response: { body: unknown }, verdict: (d: string, a: string) => void): void {
  const { policy } = session
  const body = response.body as Json | null
  if (body === null || typeof body !== 'object' || !Array.isArray(body.choices)) return
  const chat = ctx.endpoint === 'chat.completions'
  const texts = (body.choices as Json[]).map((c) => chat ? (c?.message as Json | undefined)?.content : c?.text)
  const started = performance.now()
  const perChoice: Finding[][] = texts.map((t) => typeof t === 'string' && policy.output.groups.length > 0 ? scanText(t, policy.output.groups) : [])
  const { pii, secret } = policy.output
  const classified = classifyFindings('output', perChoice.flat(), { pii, secret }, elapsedMs(started))
  if (policy.output.groups.length > 0) {
    for (const d of classified.decisions) {
      session.decisions.push(d)
      verdict(d.detector, d.action)
    }
  }
  if (policy.sample !== null && ctx.sample !== null) ctx.sample.completion = maskedSample(texts.filter((t) => typeof t === 'string').join('\n'), policy.sample.maxChars)
  if (classified.blocked.length > 0) throw blockedError('output', classified.blocked)
  const redactor = createRedactor()
  const choices = (body.choices as Json[]).map((choice, i) => {
    const text = texts[i]
    if (typeof text !== 'string') return choice
    const redact = (perChoice[i] as Finding[]).filter((f) => f.detector !== 'injection' && policy.output[f.detector].actionFor(f.type) === 'redact')
    let out = redact.length === 0 ? text : redactor.redact(text, forOutput(redact))
    if (session.restorer !== null) out = session.restorer.restore(out)
    if (out === text) return choice
    return chat ? { ...choice, message: { ...(choice.message as Json), content: out } } : { ...choice, text: out }
  })
  response.body = { ...body, choices }
  const types = reportedTypes(classified.decisions)
  if (types.length > 0) {
    const before = ctx.responseHeaders[guardsHeader]
    ctx.responseHeaders[guardsHeader] = [...new Set([...(before === undefined ? [] : before.split(',')), ...types])].join(',')
  }
}
