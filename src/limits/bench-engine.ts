/**
 * Micro-benchmark of the limits engine on the request path: CPU µs per admit + settle of the
 * benchmark's chat request (global, per-model and per-key limits and a per-key daily budget:
 * nine counters, in-process), once with the same prompt every time (as `npm run bench` sends it)
 * and once with a prompt never seen before (nothing to remember).
 *
 *   node src/limits/bench-engine.ts [--iterations 100000] [--no-cache]
 *
 * Not part of the test run. Numbers quoted in docs must come from this script's output.
 */
import { parseArgs } from 'node:util'
import type { Principal, RequestContext } from '../pipeline/context.ts'
import type { PolicyRecord } from '../store/store.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { createMemoryCounterStore } from './memory-counter-store.ts'
import { createPolicyResolver } from './policy-resolver.ts'
import { createPriceTable } from './pricing.ts'
import { createLimitsEngine } from './limits-engine.ts'
import { createTokenCountCache } from './token-count-cache.ts'

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, 'no-cache': { type: 'boolean', default: false } } })
const iterations = Number(values.iterations)
if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error('--iterations must be a positive integer')

const never = { requests_per_minute: 100_000_000, tokens_per_minute: 1_000_000_000, concurrent_requests: 100_000 }
const policy: PolicyRecord = {
  id: 'pol_bench', targetKind: 'key', targetId: 'key_bench', tenant: null, requestsPerMinute: 100_000_000, tokensPerMinute: 1_000_000_000,
  concurrentRequests: null, budgetMicroUsd: 1_000_000 * 1_000_000, budgetPeriod: 'daily', maxTokens: null, createdBy: null, createdAt: 0, updatedAt: 0
}
const resolver = createPolicyResolver({ global: never, models: [{ model: 'bench-model', ...never }], per_credential: never } as never, [policy])
const prices = createPriceTable([{ model: 'bench-model', inputMicroUsdPerMillion: 150_000, outputMicroUsdPerMillion: 600_000 }])
const engine = createLimitsEngine({
  counters: () => counters,
  resolver: () => resolver,
  prices: () => prices,
  usage: { record () {}, async flush () {}, async close () {} },
  tokensCounted: 'total',
  defaultMaxTokens: 4096,
  leaseMs: 600_000,
  log: silentLog,
  onBudgetEvent () {},
  async recordedSpend () { return 0 },
  onCounterFailure: () => null,
  ...(values['no-cache'] ? {} : { tokenCache: createTokenCountCache({ maxEntries: 4096 }) })
})
const counters = createMemoryCounterStore({})
const principal: Principal = {
  kind: 'api_key', keyId: 'key_bench', clientId: null, subject: null, tokenId: null, name: 'bench', tenant: null,
  scopes: new Set(['chat']), models: null, allowedIps: null
}

function request (question: string): RequestContext {
  const ctx = newRequestContext({ requestId: 'r', endpoint: 'chat.completions', method: 'POST', headers: {}, socketIp: '127.0.0.1', rawBody: null, signal: new AbortController().signal, log: silentLog })
  ctx.principal = principal
  ctx.model = 'bench-model'
  ctx.body = {
    model: 'bench-model',
    messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: question }],
    max_tokens: 32
  }
  return ctx
}

async function run (label: string, question: (i: number) => string): Promise<void> {
  const contexts = Array.from({ length: iterations }, (_, i) => request(question(i)))
  for (let i = 0; i < Math.min(2000, iterations); i++) await once(contexts[i] as RequestContext) // warm-up: JIT
  const before = process.cpuUsage()
  for (let i = 0; i < iterations; i++) await once(contexts[i] as RequestContext)
  const used = process.cpuUsage(before)
  console.log(`${label.padEnd(34)} ${((used.user + used.system) / iterations).toFixed(2)} µs CPU per admit + settle`)
}

async function once (ctx: RequestContext): Promise<void> {
  const admission = await engine.admit(ctx)
  if (admission === null) throw new Error('no limit applied')
  ctx.route = { upstream: 'bench' } as never
  ctx.upstream = { kind: 'json', status: 200, headers: {}, body: {} } as never
  ctx.usage = { inputTokens: 24, outputTokens: 12 }
  await engine.settle(ctx, admission)
}

console.log(`limits engine, memory counters, ${iterations} requests, Node ${process.version}`)
await run('same prompt every time', () => 'Say hello to the benchmark in one short sentence.')
await run('a new prompt every time', (i) => `Say hello to benchmark number ${i} in one short sentence, please.`)
