import type { Endpoint, RequestContext } from '../pipeline/context.ts'
import type { AuditFields, MemberGroups } from './audit-chain.ts'
import type { JsonValue } from './canonical-json.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { isCanonicalizable, nativelyOrdered, unsupported } from './canonical-json.ts'
import { redactCredentialShapes } from '../lib/credential-shapes.ts'

const endpointPaths: Readonly<Record<Endpoint, string>> = {
  'chat.completions': '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  models: '/v1/models'
}

/** Longest user agent kept: enough to identify an SDK, not a channel for arbitrary data. */
export const maxUserAgentChars = 256
/**
 * Status recorded when the client went away before its response was complete (nginx's
 * convention); `error` is then `client_closed`, the one value that is not a catalogue code,
 * because no client ever sees it.
 */
export const clientClosedStatus = 499

/** A request record and, when the fast path can vouch for them, its canonical members. */
export interface RequestRecord {
  readonly fields: AuditFields
  /** Null when a nested value has keys only the reference serializer orders (a metadata key "10"). */
  readonly groups: MemberGroups | null
}

/**
 * The record of one proxy request, with the fields fixed in ARCHITECTURE.md ("Audit record").
 * Built from the context only; `ip` is the client address after trusted proxies.
 *
 * The fields are built as four objects split where the chain's own members sort (`mac`,
 * `prev`, `seq`), each with its keys in canonical order and every nested value canonically
 * ordered, so the native serializer writes each group's canonical members and the chain seals
 * them without serializing or walking the record again (`AuditChain.sealGroups`).
 * request-record.test.ts holds the groups to what the checked path (`sealLine`) writes.
 */
export function requestRecord (ctx: RequestContext, geo: GeoLookup | null): RequestRecord {
  const principal = ctx.principal
  const aborted = ctx.signal.aborted
  const userAgent = ctx.headers['user-agent']
  let ordered = true
  // Guard verdicts come from code the audit does not own: one that canonical JSON refuses
  // (undefined, a class instance) would cost the whole record, so it is recorded as null.
  const nested = (value: unknown): JsonValue => {
    if (value === null) return null
    const inOrder = nativelyOrdered(value)
    if (inOrder !== unsupported) return inOrder
    ordered = false
    return isCanonicalizable(value) ? value as JsonValue : null
  }
  const beforeMac = {
    api_key_id: principal?.keyId ?? null,
    client_id: principal?.clientId ?? null,
    cost_usd: ctx.costMicroUsd === null ? null : ctx.costMicroUsd / 1_000_000,
    endpoint: endpointPaths[ctx.endpoint],
    error: aborted ? 'client_closed' : ctx.error,
    geo: geo === null ? null : nested(geo(ctx.clientIp)),
    guards: nested(ctx.guards),
    ip: ctx.clientIp,
    latency_ms: millis(performance.now() - ctx.startedAt)
  }
  const beforePrev = {
    metadata: nested(ctx.metadata),
    // Both are the caller's text: a credential pasted into them is masked (lib/credential-shapes.ts).
    model: ctx.model === null ? null : redactCredentialShapes(ctx.model)
  }
  // `sample` only when a guard policy asks (`guards.record_sample`): already masked and size-limited.
  const beforeSeq: AuditFields = ctx.sample === null
    ? { request_id: ctx.requestId }
    : { request_id: ctx.requestId, sample: { completion: ctx.sample.completion, prompt: ctx.sample.prompt } }
  const afterSeq = {
    status: aborted ? clientClosedStatus : ctx.status,
    tenant: principal?.tenant ?? null,
    timestamp_utc: ctx.receivedAt.toISOString(),
    tokens_input: ctx.usage?.inputTokens ?? null,
    tokens_output: ctx.usage?.outputTokens ?? null,
    ttfb_ms: ctx.ttfbMs === null ? null : millis(ctx.ttfbMs),
    type: 'request',
    upstream: ctx.route?.upstream ?? null,
    user_agent: typeof userAgent === 'string' ? redactCredentialShapes(userAgent.slice(0, maxUserAgentChars)) : null
  }
  const fields: AuditFields = { ...beforeMac, ...beforePrev, ...beforeSeq, ...afterSeq }
  if (!ordered) return { fields, groups: null }
  return { fields, groups: [members(beforeMac), members(beforePrev), members(beforeSeq), members(afterSeq)] }
}

/** The members of an object whose keys and nested values are in canonical order, without braces. */
function members (group: object): string {
  const text = JSON.stringify(group)
  return text.slice(1, text.length - 1)
}

/** Milliseconds with microsecond precision: enough to compare, short in the file. */
function millis (ms: number): number {
  return Math.round(ms * 1000) / 1000
}
