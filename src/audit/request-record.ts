import type { Endpoint, RequestContext } from '../pipeline/context.ts'
import type { AuditFields } from './audit-chain.ts'
import type { GeoLookup } from './geo-lookup.ts'
import { canonicallyOrdered } from './canonical-json.ts'
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

/**
 * The record of one proxy request, with the fields fixed in ARCHITECTURE.md ("Audit record").
 * Built from the context only; `ip` is the client address after trusted proxies.
 */
export function requestRecord (ctx: RequestContext, geo: GeoLookup | null): AuditFields {
  const principal = ctx.principal
  const aborted = ctx.signal.aborted
  const userAgent = ctx.headers['user-agent']
  // Keys in canonical (sorted) order and nested values ordered too: the writer then serializes
  // the record natively in one pass (canonical-members.ts) instead of sorting and copying it.
  // Guard verdicts come from code the audit does not own: one that canonical JSON refuses
  // (undefined, a class instance) would cost the whole record, so it is recorded as null.
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
    timestamp_utc: ctx.receivedAt.toISOString(),
    tokens_input: ctx.usage?.inputTokens ?? null,
    tokens_output: ctx.usage?.outputTokens ?? null,
    ttfb_ms: ctx.ttfbMs === null ? null : millis(ctx.ttfbMs),
    type: 'request',
    upstream: ctx.route?.upstream ?? null,
    user_agent: typeof userAgent === 'string' ? redactCredentialShapes(userAgent.slice(0, maxUserAgentChars)) : null
  }
}

/** Milliseconds with microsecond precision: enough to compare, short in the file. */
function millis (ms: number): number {
  return Math.round(ms * 1000) / 1000
}
