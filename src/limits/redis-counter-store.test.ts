import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { budget, granted, refused, requests, runCounterStoreContract, slots, tokens } from './counter-store-contract.ts'
import { lua } from './redis-counter-scripts.ts'
import { createRedisCounterStore, runScript } from './redis-counter-store.ts'
import { keysUnder } from './redis-keys-fixture.ts'

// Tests run against a real server; the default matches the development environment.
const url = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefixes: string[] = []

function uniquePrefix (): string {
  const prefix = `pcl-test-${randomBytes(6).toString('hex')}:`
  prefixes.push(prefix)
  return prefix
}

async function connect (): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  return redis
}

// Two connections, as two gateway instances would have.
const a = await connect()
const b = await connect()
after(async () => {
  for (const prefix of prefixes) {
    const keys = await keysUnder(a, prefix)
    if (keys.length > 0) await a.unlink(...keys)
  }
  await a.quit()
  await b.quit()
})

runCounterStoreContract('redis', async (now) => {
  const keyPrefix = uniquePrefix()
  return {
    store: createRedisCounterStore({ redis: a, keyPrefix, now }),
    twin: createRedisCounterStore({ redis: b, keyPrefix, now }),
    dispose: async () => {
      const keys = await keysUnder(a, keyPrefix)
      if (keys.length > 0) await a.unlink(...keys)
    }
  }
})

test('on Redis TIME: a burst of 5 per second, an honest wait of at most 200 ms, then a pass', async () => {
  const store = createRedisCounterStore({ redis: a, keyPrefix: uniquePrefix() })
  for (let i = 0; i < 5; i++) granted(await store.acquire([requests('rq', 5, 1_000)]))
  const denied = refused(await store.acquire([requests('rq', 5, 1_000)]))
  assert.ok(denied.retryAfterMs !== null && denied.retryAfterMs > 0 && denied.retryAfterMs <= 200, String(denied.retryAfterMs))
  await sleep(denied.retryAfterMs)
  granted(await store.acquire([requests('rq', 5, 1_000)]))
})

test('on Redis TIME: 200 simultaneous requests over two connections against 50 → exactly 50', async () => {
  const keyPrefix = uniquePrefix()
  const one = createRedisCounterStore({ redis: a, keyPrefix })
  const two = createRedisCounterStore({ redis: b, keyPrefix })
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? one : two).acquire([requests('rq', 50, 3_600_000)])))
  assert.equal(results.filter((r) => r.ok).length, 50)
})

test('keys live no longer than they count: TTLs, the open marker, and deletion once replenished or released', async () => {
  const keyPrefix = uniquePrefix()
  const store = createRedisCounterStore({ redis: a, keyPrefix })
  const resetAt = Date.now() + 3_600_000
  const held = granted(await store.acquire([requests('rq', 5), tokens('tk', 1_000, 100), slots('cc', 2), budget('bg', 1_000, 10, resetAt)]))
  const marker = `${keyPrefix}o:${held.id}`
  assert.deepEqual(await keysUnder(a, keyPrefix), [`${keyPrefix}b:bg`, `${keyPrefix}c:cc`, marker, `${keyPrefix}r:rq`, `${keyPrefix}t:tk`].sort())
  const rqTtl = await a.pttl(`${keyPrefix}r:rq`)
  assert.ok(rqTtl > 11_000 && rqTtl <= 12_000, `1 of 5 per minute drains in 12 s, PTTL ${rqTtl}`)
  const ccTtl = await a.pttl(`${keyPrefix}c:cc`)
  assert.ok(ccTtl > 29_000 && ccTtl <= 30_000, `lease 30 s, PTTL ${ccTtl}`)
  assert.equal(Number(await a.call('PEXPIRETIME', `${keyPrefix}b:bg`)), resetAt)
  assert.ok(await a.pttl(marker) > 86_000_000)
  await store.settle(held, new Map([['tk', 0]]))
  // The refund empties the token bucket and the released slot empties the set: both go.
  assert.deepEqual(await keysUnder(a, keyPrefix), [`${keyPrefix}b:bg`, `${keyPrefix}r:rq`])
})

test('a script the server does not have (restart, SCRIPT FLUSH) is sent again with EVAL', async () => {
  const script = lua(`return ARGV[1] .. ' ${randomBytes(8).toString('hex')}'`)
  assert.deepEqual(await a.script('EXISTS', script.sha), [0])
  assert.match(String(await runScript(a, script, [], ['ran'])), /^ran /)
  assert.deepEqual(await a.script('EXISTS', script.sha), [1])
})

test('close quits a connection the store opened and leaves a shared one open', async () => {
  const own = createRedisCounterStore({ redis: url, keyPrefix: uniquePrefix() })
  await own.ping()
  await own.close()
  await assert.rejects(own.ping())
  const shared = createRedisCounterStore({ redis: a, keyPrefix: uniquePrefix() })
  await shared.close()
  assert.equal(await a.ping(), 'PONG')
})

test('a Redis password never appears in an error, whether the server is down or refuses it', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {})
  for (const target of ['redis://:canary-secret-pw@127.0.0.1:1', 'redis://canary-user:canary-secret-pw@127.0.0.1:6379']) {
    const store = createRedisCounterStore({ redis: target, keyPrefix: uniquePrefix() })
    const hidden = (err: Error): boolean => !`${err.message} ${err.stack}`.includes('canary-secret-pw')
    await assert.rejects(store.ping(), hidden, target.replace('canary-secret-pw', '…'))
    await assert.rejects(store.acquire([requests('rq', 5)]), hidden)
    await store.close()
  }
  for (const call of warn.mock.calls) assert.ok(!JSON.stringify(call.arguments).includes('canary-secret-pw'))
})
