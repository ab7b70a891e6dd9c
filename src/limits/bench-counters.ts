/**
 * Micro-benchmark of the counters port: µs per acquire + settle of one request with three checks
 * (requests, tokens, concurrency), on the memory and the Redis adapter, one request at a time
 * (latency) and 64 in flight (throughput). Nothing is refused: the limits are far above the load.
 *
 *   node src/limits/bench-counters.ts [--iterations 20000] [--redis redis://127.0.0.1:6379] [--no-redis]
 *
 * Not part of the test run. Numbers quoted in docs must come from this script's output.
 */
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import type { CounterStore, LimitCheck } from './counter-store.ts'
import { createMemoryCounterStore } from './memory-counter-store.ts'
import { createRedisCounterStore } from './redis-counter-store.ts'
import { keysUnder } from './redis-keys-fixture.ts'

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20000' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    'no-redis': { type: 'boolean', default: false }
  }
})
const iterations = Number(values.iterations)
if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error('--iterations must be a positive integer')

/** The checks of request i: 100 keys, as 100 API keys sharing the load. */
function checksFor (i: number): LimitCheck[] {
  const key = `key_${i % 100}`
  return [
    { key: `rq:${key}:60000`, kind: 'requests', limit: 1_000_000_000, windowMs: 60_000, cost: 1 },
    { key: `tk:${key}:60000`, kind: 'tokens', limit: 1_000_000_000, windowMs: 60_000, cost: 1_200 },
    { key: `cc:${key}`, kind: 'concurrency', limit: 1_000_000, windowMs: 600_000, cost: 1 }
  ]
}

async function once (store: CounterStore, i: number): Promise<number> {
  const started = process.hrtime.bigint()
  const checks = checksFor(i)
  const result = await store.acquire(checks)
  if (!result.ok) throw new Error(`refused by ${result.denied.key}: the benchmark limits are too low`)
  await store.settle(result.reservation, new Map([[checks[1]?.key as string, 800]]))
  return Number(process.hrtime.bigint() - started) / 1_000
}

function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

interface Row { adapter: string, mode: string, perRequestUs: number, p50Us: number, p99Us: number }

async function measure (adapter: string, store: CounterStore): Promise<Row[]> {
  for (let i = 0; i < Math.min(1_000, iterations); i++) await once(store, i) // warm-up: JIT, script cache
  const latencies: number[] = []
  let started = performance.now()
  for (let i = 0; i < iterations; i++) latencies.push(await once(store, i))
  const sequential = (performance.now() - started) * 1_000 / iterations
  latencies.sort((x, y) => x - y)
  const inFlight = 64
  const parallel: number[] = []
  let next = 0
  started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < iterations) parallel.push(await once(store, next++))
  }))
  const concurrent = (performance.now() - started) * 1_000 / iterations
  parallel.sort((x, y) => x - y)
  return [
    { adapter, mode: 'sequential', perRequestUs: sequential, p50Us: percentile(latencies, 0.5), p99Us: percentile(latencies, 0.99) },
    { adapter, mode: `${inFlight} in flight`, perRequestUs: concurrent, p50Us: percentile(parallel, 0.5), p99Us: percentile(parallel, 0.99) }
  ]
}

const rows: Row[] = []
const memory = createMemoryCounterStore()
rows.push(...await measure('memory', memory))
await memory.close()

if (!values['no-redis']) {
  const redis = new Redis(values.redis, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const keyPrefix = `pcl-bench-${randomBytes(6).toString('hex')}:`
  const store = createRedisCounterStore({ redis, keyPrefix })
  try {
    rows.push(...await measure('redis', store))
  } finally {
    await store.close()
    const keys = await keysUnder(redis, keyPrefix)
    if (keys.length > 0) await redis.unlink(...keys)
    await redis.quit()
  }
}

console.log(`counters micro-benchmark: acquire + settle, 3 checks (requests, tokens, concurrency), ${iterations} requests`)
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`)
console.log('| adapter | mode | µs per request | p50 µs | p99 µs |')
console.log('|---|---|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.adapter} | ${r.mode} | ${r.perRequestUs.toFixed(1)} | ${r.p50Us.toFixed(1)} | ${r.p99Us.toFixed(1)} |`)
