import type { Endpoint, RequestContext } from '../pipeline/context.ts'
import type { MemberGroups } from './audit-chain.ts'
import type { GeoLookup } from './geo-lookup.ts'
import type { JsonValue } from './canonical-json.ts'
import { canonicalJson, canonicalNumber, canonicallyOrdered } from './canonical-json.ts'
import { redactCredentialShapes } from '../lib/credential-shapes.ts'
import { isoTimestamp } from './iso-timestamp.ts'

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

/** The fields of a request record (ARCHITECTURE.md, "Audit record"), keys in canonical order. */
export type RequestRecord = {
  readonly api_key_id: string | null
  readonly client_id: string | null
  readonly cost_usd: number | null
  readonly endpoint: string
  readonly error: string | null
  readonly geo: JsonValue
  readonly guards: JsonValue
  readonly ip: string
  readonly latency_ms: number
  readonly metadata: JsonValue
  readonly model: string | null
  readonly request_id: string
  readonly sample?: { readonly completion: string | null, readonly prompt: string | null }
  readonly status: number
  readonly tenant: string | null
  readonly timestamp_utc: string
  readonly tokens_input: number | null
  readonly tokens_output: number | null
  readonly ttfb_ms: number | null
  readonly type: 'request'
  readonly upstream: string | null
  readonly user_agent: string | null
}

/**
 * The record of one proxy request, with the fields fixed in ARCHITECTURE.md ("Audit record").
 * Built from the context only; `ip` is the client address after trusted proxies.
 */
export function requestRecord (ctx: RequestContext, geo: GeoLookup | null): RequestRecord {
  const principal = ctx.principal
  const aborted = ctx.signal.aborted
  const userAgent = ctx.headers['user-agent']
  // Keys in canonical (sorted) order and nested values ordered too (requestMemberGroups relies on
  // the nested ones). Guard verdicts come from code the audit does not own: one that canonical
  // JSON refuses (undefined, a class instance) would cost the whole record, so it is recorded as null.
  return {
    api_key_id: principal?.keyId ?? null,
    client_id: principal?.clientId ?? null,
    cost_usd: ctx.costMicroUsd === null ? null : ctx.costMicroUsd / 1_000_000,
    endpoint: endpointPaths[ctx.endpoint],
    error: aborted ? 'client_closed' : ctx.error,
    geo: geo === null ? null : canonicallyOrdered(geo(ctx.clientIp)),
    guards: ctx.guards === null ? null : canonicallyOrdered(ctx.guards),
    ip: ctx.clientIp,
    latency_ms: millis(performance.now() - ctx.startedAt),
    metadata: ctx.metadata === null ? null : canonicallyOrdered(ctx.metadata),
    // Both are the caller's text: a credential pasted into them is masked (lib/credential-shapes.ts).
    model: ctx.model === null ? null : redactCredentialShapes(ctx.model),
    request_id: ctx.requestId,
    // Only when a guard policy asks (`guards.record_sample`): already masked and size-limited.
    ...(ctx.sample === null ? {} : { sample: { completion: ctx.sample.completion, prompt: ctx.sample.prompt } }),
    status: aborted ? clientClosedStatus : ctx.status,
    tenant: principal?.tenant ?? null,
    timestamp_utc: isoTimestamp(ctx.receivedAt),
    tokens_input: ctx.usage?.inputTokens ?? null,
    tokens_output: ctx.usage?.outputTokens ?? null,
    ttfb_ms: ctx.ttfbMs === null ? null : millis(ctx.ttfbMs),
    type: 'request',
    upstream: ctx.route?.upstream ?? null,
    user_agent: typeof userAgent === 'string' ? redactCredentialShapes(userAgent.slice(0, maxUserAgentChars)) : null
  }
}

/**
 * The canonical members of a request record, written field by field in the groups the chain's
 * `mac`, `prev` and `seq` sort between, so the chain neither checks the record's order nor cuts
 * its serialization apart (~4 µs a request in the gateway's profile). Strings and numbers are
 * written as the reference writes them (`JSON.stringify`, `canonicalNumber`: §3.2.2 of RFC 8785);
 * nested values go through `canonicalJson`. A non-finite number throws, as in the reference. request-record.test.ts
 * holds it to the reference over generated requests.
 */
export function requestMemberGroups (r: RequestRecord): MemberGroups {
  return [
    '"api_key_id":' + text(r.api_key_id) + ',"client_id":' + text(r.client_id) + ',"cost_usd":' + number(r.cost_usd) +
      ',"endpoint":' + JSON.stringify(r.endpoint) + ',"error":' + text(r.error) + ',"geo":' + nested(r.geo) +
      ',"guards":' + nested(r.guards) + ',"ip":' + JSON.stringify(r.ip) + ',"latency_ms":' + number(r.latency_ms),
    '"metadata":' + nested(r.metadata) + ',"model":' + text(r.model),
    '"request_id":' + JSON.stringify(r.request_id) + (r.sample === undefined ? '' : ',"sample":' + canonicalJson(r.sample)),
    '"status":' + number(r.status) + ',"tenant":' + text(r.tenant) + ',"timestamp_utc":' + JSON.stringify(r.timestamp_utc) +
      ',"tokens_input":' + number(r.tokens_input) + ',"tokens_output":' + number(r.tokens_output) + ',"ttfb_ms":' + number(r.ttfb_ms) +
      ',"type":"request","upstream":' + text(r.upstream) + ',"user_agent":' + text(r.user_agent)
  ]
}

function text (value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value)
}

function number (value: number | null): string {
  return value === null ? 'null' : canonicalNumber(value)
}

function nested (value: JsonValue): string {
  return value === null ? 'null' : canonicalJson(value)
}

/** Milliseconds with microsecond precision: enough to compare, short in the file. */
function millis (ms: number): number {
  return Math.round(ms * 1000) / 1000
}
