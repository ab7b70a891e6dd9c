import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { createAuditChain } from './audit-chain.ts'
import { canonicalJson, canonicalJsonReference, canonicallyOrdered } from './canonical-json.ts'
import type { JsonValue } from './canonical-json.ts'
import { canonicalMemberGroups } from './canonical-members.ts'
import { nastyKeys, nastyStrings, object, pick, prng, value } from './json-value-fixture.ts'

// The fast paths (native JSON.stringify over values already in canonical order, key-sorted
// copies, the chain's single serialization cut at top-level commas) must write exactly what the
// reference serializer writes: the bytes on disk and the MACs of docs/audit.md depend on it.

/** A proxy-request record (the record stage's shape) with random nested geo, guards and metadata, or a random object. */
function record (rnd: () => number): Record<string, JsonValue> {
  if (rnd() < 0.3) return object(rnd, 1, Math.floor(rnd() * 12), ['seq', 'prev', 'mac'])
  const fields: Record<string, JsonValue> = {
    api_key_id: 'key_' + Math.floor(rnd() * 1e9).toString(36),
    client_id: rnd() < 0.5 ? null : pick(rnd, nastyStrings),
    cost_usd: rnd() < 0.3 ? null : rnd() / 1000,
    endpoint: '/v1/chat/completions',
    error: rnd() < 0.7 ? null : 'rate_limit_exceeded',
    geo: rnd() < 0.5 ? null : { country: 'DE', city: pick(rnd, nastyStrings), asn: 3320, as_org: pick(rnd, nastyStrings) },
    guards: rnd() < 0.3 ? null : [{ direction: 'input', detector: 'pii', action: 'flag', types: ['pii.email'], ms: rnd() }, { score: rnd(), signals: [pick(rnd, nastyStrings)] }],
    ip: '203.0.113.' + Math.floor(rnd() * 255),
    latency_ms: Math.round(rnd() * 1e6) / 1000,
    metadata: rnd() < 0.3 ? null : object(rnd, 2, Math.floor(rnd() * 5)),
    model: pick(rnd, nastyStrings),
    request_id: 'req_' + Math.floor(rnd() * 1e12).toString(16),
    status: pick(rnd, [200, 400, 429, 499, 502]),
    tenant: rnd() < 0.5 ? null : pick(rnd, nastyStrings),
    timestamp_utc: new Date(Math.floor(rnd() * 2e12)).toISOString(),
    tokens_input: Math.floor(rnd() * 1000),
    tokens_output: Math.floor(rnd() * 1000),
    ttfb_ms: null,
    type: 'request',
    upstream: 'mock',
    user_agent: pick(rnd, nastyStrings)
  }
  // In canonical order at every depth (what the record stage builds: the native path), only at
  // the top (the copy path), or shuffled (admin records, tests).
  const r = rnd()
  if (r < 0.33) return canonicallyOrdered(fields) as Record<string, JsonValue>
  if (r < 0.66) return fields
  const shuffled: Record<string, JsonValue> = {}
  for (const key of Object.keys(fields).sort(() => rnd() - 0.5)) shuffled[key] = fields[key] as JsonValue
  return shuffled
}

const runs = 3000

test('canonicalJson writes exactly what the reference writes, over generated values', () => {
  const rnd = prng(8785)
  for (let i = 0; i < runs; i++) {
    const v = rnd() < 0.5 ? record(rnd) : value(rnd, 0)
    assert.equal(canonicalJson(v), canonicalJsonReference(v), `case ${i}`)
    // Read back (as the verifier does), the value is in canonical order and takes the native
    // path. Compared with the reference over the same parsed value: node v24.21's JSON.parse
    // sometimes reads a one-character escaped key (`"\""`) as another (`"\\"`), see docs/audit.md.
    const reparsed = JSON.parse(canonicalJsonReference(v)) as JsonValue
    assert.equal(canonicalJson(reparsed), canonicalJsonReference(reparsed), `case ${i}, reparsed`)
  }
})

test('the chain serializes once: its line and MAC equal the reference over the whole record', () => {
  const key = createSecretKey(randomBytes(32))
  const chain = createAuditChain(key)
  const rnd = prng(2104)
  for (let i = 0; i < runs; i++) {
    const fields = record(rnd)
    const { record: sealed, line } = chain.sealLine(fields)
    assert.equal(line, canonicalJsonReference(sealed), `case ${i}: the line`)
    const unsealed = { ...fields, seq: sealed.seq, prev: sealed.prev }
    const expected = createHmac('sha256', key).update(sealed.prev + canonicalJsonReference(unsealed)).digest('hex')
    assert.equal(sealed.mac, expected, `case ${i}: the mac`)
  }
})

test('canonicalMemberGroups cuts at any pivots exactly where the reference would', () => {
  const rnd = prng(1)
  for (let i = 0; i < runs; i++) {
    const pivots = [...new Set([pick(rnd, nastyKeys), pick(rnd, nastyKeys), 'm' + pick(rnd, nastyKeys)])].sort()
    const fields = object(rnd, 1, Math.floor(rnd() * 10), pivots)
    const ordered = canonicallyOrdered(fields) as Record<string, JsonValue>
    for (const v of [fields, ordered]) {
      const groups = canonicalMemberGroups(v, pivots)
      const expected = pivots.map(() => [] as string[])
      expected.push([])
      for (const k of Object.keys(v).sort()) {
        const g = pivots.filter((p) => p < k).length
        expected[g]?.push(JSON.stringify(k) + ':' + canonicalJsonReference(v[k] as JsonValue))
      }
      assert.deepEqual(groups, expected.map((members) => members.join(',')), `case ${i}`)
    }
  }
})

test('canonicallyOrdered keeps the value, and null is only for what the reference refuses', () => {
  const rnd = prng(42)
  for (let i = 0; i < runs; i++) {
    const v = value(rnd, 0)
    assert.equal(canonicalJsonReference(canonicallyOrdered(v) as JsonValue), canonicalJsonReference(v), `case ${i}`)
  }
  const refused: unknown[] = [NaN, Infinity, undefined, 1n, () => 1, new Date(0), { a: undefined }, [Symbol('s')], [{ b: { c: -Infinity } }]]
  for (const v of refused) {
    assert.equal(canonicallyOrdered(v), null)
    // The fast path refuses them with the reference's own error.
    assert.throws(() => canonicalJson(v as JsonValue), (err: unknown) => {
      assert.throws(() => canonicalJsonReference(v as JsonValue), { message: (err as Error).message })
      return err instanceof TypeError
    })
  }
  let deep: JsonValue = 1
  for (let i = 0; i < 64; i++) deep = [deep]
  assert.equal(canonicalJson(deep), canonicalJsonReference(deep), 'the depth bound is the reference\'s')
  assert.throws(() => canonicalJson([deep]), /deeper/)
})
