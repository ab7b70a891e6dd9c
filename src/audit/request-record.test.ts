import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import type { RequestContext } from '../pipeline/context.ts'
import type { Provider } from '../upstream/provider.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { createAuditChain } from './audit-chain.ts'
import { canonicalJsonReference } from './canonical-json.ts'
import { canonicalMemberGroups } from './canonical-members.ts'
import { nastyStrings, object, pick, prng, value } from './json-value-fixture.ts'
import { requestMemberGroups, requestRecord } from './request-record.ts'

// The record stage builds request records in canonical order so the chain serializes them
// natively: what lands on disk and what the MAC covers must be exactly what the reference
// serializer writes, whatever the client put in the user agent, the model or the metadata.

const provider = { name: 'mock', type: 'mock' } as unknown as Provider

function context (rnd: () => number, i: number): RequestContext {
  const aborter = new AbortController()
  const ctx = newRequestContext({
    requestId: 'req_' + i.toString(16),
    endpoint: pick(rnd, ['chat.completions', 'completions', 'embeddings', 'models'] as const),
    method: 'POST',
    headers: rnd() < 0.2 ? {} : { 'user-agent': pick(rnd, nastyStrings) + (rnd() < 0.2 ? ' sk-proj-' + 'a'.repeat(40) : '') },
    socketIp: '203.0.113.' + (i % 250),
    rawBody: '{}',
    signal: aborter.signal,
    log: silentLog
  })
  if (rnd() < 0.1) aborter.abort()
  ctx.model = rnd() < 0.2 ? null : pick(rnd, nastyStrings)
  if (rnd() < 0.8) {
    ctx.principal = {
      kind: 'api_key', keyId: 'key_' + i, clientId: rnd() < 0.5 ? null : pick(rnd, nastyStrings), subject: null, tokenId: null,
      name: null, tenant: rnd() < 0.5 ? null : pick(rnd, nastyStrings), scopes: new Set(), models: null, allowedIps: null
    }
  }
  if (rnd() < 0.7) ctx.route = { upstream: pick(rnd, nastyStrings), upstreamModel: 'm', provider }
  ctx.ttfbMs = rnd() < 0.3 ? null : rnd() * 100
  ctx.usage = rnd() < 0.3 ? null : { inputTokens: Math.floor(rnd() * 1e5), outputTokens: Math.floor(rnd() * 1e5) }
  ctx.costMicroUsd = rnd() < 0.3 ? null : Math.floor(rnd() * 1e6)
  // Metadata as the metadata stage admits it: flat, keys of [A-Za-z0-9_.:-], some all digits
  // (only the reference serializer orders those, so such a record takes the checked path).
  ctx.metadata = rnd() < 0.3 ? null : metadata(rnd)
  ctx.guards = rnd() < 0.3 ? null : [value(rnd, 1), object(rnd, 1, 4), { action: 'flag', detector: 'pii', types: ['pii.email'], ms: rnd() }]
  ctx.sample = rnd() < 0.8 ? null : { prompt: pick(rnd, nastyStrings), completion: rnd() < 0.5 ? null : pick(rnd, nastyStrings) }
  ctx.status = pick(rnd, [200, 400, 429, 502])
  ctx.error = ctx.status === 200 ? null : 'rate_limit_exceeded'
  return ctx
}

function metadata (rnd: () => number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  const keys = ['team', 'ticket', 'a', 'Z', '10', '9', 'x.y:z', '_', 'mac', 'prev', 'seq', 'request_id', 'metadata', 'status']
  for (let n = Math.floor(rnd() * 6); n > 0; n--) out[pick(rnd, keys)] = pick(rnd, [pick(rnd, nastyStrings), 42, -0.5, true])
  return out
}

test('request records seal to exactly the reference line and MAC, over generated requests', () => {
  // Both ways the chain can serialize them: from the members the record stage writes
  // (requestMemberGroups) and from the fields alone.
  const key = createSecretKey(randomBytes(32))
  const chain = createAuditChain(key)
  const rnd = prng(499)
  for (let i = 0; i < 3000; i++) {
    const fields = requestRecord(context(rnd, i), null)
    const groups = requestMemberGroups(fields)
    assert.deepEqual(groups, canonicalMemberGroups(fields, ['mac', 'prev', 'seq']), `case ${i}: the member groups`)
    for (const sealed of [chain.sealLine(fields, groups), chain.sealLine(fields)]) {
      assert.equal(sealed.line, canonicalJsonReference(sealed.record), `case ${i}: the line`)
      const unsealed = { ...fields, seq: sealed.record.seq, prev: sealed.record.prev }
      const mac = createHmac('sha256', key).update(sealed.record.prev + canonicalJsonReference(unsealed)).digest('hex')
      assert.equal(sealed.record.mac, mac, `case ${i}: the MAC over the reference serialization`)
    }
  }
})

test('a request record with a non-finite number is refused by its member writer, as by the reference', () => {
  const ctx = context(prng(3), 3)
  ctx.costMicroUsd = Number.NaN
  const fields = requestRecord(ctx, null)
  assert.throws(() => requestMemberGroups(fields), /NaN is not a finite number/)
  assert.throws(() => canonicalJsonReference(fields), /NaN is not a finite number/)
})

test('metadata with all-digit keys is recorded whole, in canonical order on disk', () => {
  const ctx = context(prng(1), 1)
  ctx.metadata = { 9: 'nine', 10: 'ten', team: 'search' }
  const fields = requestRecord(ctx, null)
  assert.deepEqual(fields.metadata, { 9: 'nine', 10: 'ten', team: 'search' })
  const { line } = createAuditChain(createSecretKey(randomBytes(32))).sealLine(fields)
  assert.match(line, /"metadata":\{"10":"ten","9":"nine","team":"search"\}/)
})

test('a guard verdict canonical JSON refuses is recorded as null, the rest of the record kept', () => {
  const ctx = context(prng(2), 2)
  ctx.guards = [{ detector: 'pii', ms: NaN }]
  const fields = requestRecord(ctx, null)
  assert.equal(fields.guards, null)
  assert.equal(fields.request_id, ctx.requestId)
})
