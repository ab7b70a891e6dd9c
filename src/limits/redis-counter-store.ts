import { Redis } from 'ioredis'
import type { BudgetMovement, CounterStore, LimitCheck, LimitKind } from './counter-store.ts'
import { acquireResult, assertActuals, assertChecks, newReservationId, RESERVATION_TTL_MS, type CheckOutcome } from './counter-checks.ts'
import { gcraShape } from './gcra.ts'
import { acquireScript, peekScript, settleScript, type LuaScript } from './redis-counter-scripts.ts'

export interface RedisCounterStoreOptions {
  /**
   * A connection to share (left open by `close`), or a Redis URL to open one (closed by `close`).
   * Connection errors of an opened one surface through `ping` and the failing calls.
   */
  readonly redis: Redis | string
  /**
   * Prefix of every key, e.g. `portcullis:`. On Redis Cluster, one script may only touch one hash
   * slot: make the prefix a hash tag (`{portcullis}:`), which puts every counter on one node.
   */
  readonly keyPrefix: string
  /**
   * The clock in epoch ms, sent with every call. By default the scripts read Redis `TIME`, so
   * every instance decides on the one clock of the Redis server whatever the skew between
   * gateway hosts; tests inject a clock to step through windows exactly.
   */
  readonly now?: () => number
}

/** Redis key namespace per kind: requests and tokens under one id never share a counter. */
const space: Readonly<Record<LimitKind, string>> = { requests: 'r:', tokens: 't:', concurrency: 'c:', budget: 'b:' }
const code: Readonly<Record<LimitKind, string>> = { requests: 'g', tokens: 'g', concurrency: 'c', budget: 'b' }

function opened (url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000 })
  // Without a listener ioredis prints every reconnection error; failures reach callers instead.
  redis.on('error', () => {})
  return redis
}

/** EVALSHA, and EVAL when the server does not have the script (restart, SCRIPT FLUSH, failover). */
export async function runScript (redis: Redis, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return await redis.eval(script.source, keys.length, ...keys, ...args)
  }
}

function numbers (reply: unknown): number[] {
  if (!Array.isArray(reply) || !reply.every((v) => typeof v === 'number')) throw new Error('redis counter script: unexpected reply')
  return reply as number[]
}

/** The per-check ARGV of the acquire script (see redis-counter-scripts.ts). */
function acquireArgs (check: LimitCheck): Array<string | number> {
  const shape = check.kind === 'requests' || check.kind === 'tokens' ? gcraShape(check.limit, check.windowMs) : { tick: 0, interval: 1, tolerance: 0 }
  return [code[check.kind], check.limit, check.windowMs, check.resetAt ?? '', check.cost, shape.tick, shape.interval, shape.tolerance]
}

/**
 * Counters shared by every instance through Redis: one Lua script (one round trip) per acquire,
 * one per settle. Redis standalone or Sentinel; see `keyPrefix` for Cluster.
 */
export function createRedisCounterStore (options: RedisCounterStoreOptions): CounterStore {
  const owned = typeof options.redis === 'string'
  const redis = typeof options.redis === 'string' ? opened(options.redis) : options.redis
  const prefix = options.keyPrefix
  const clock = (): string => options.now === undefined ? '' : String(options.now())
  const counterKey = (check: LimitCheck): string => prefix + space[check.kind] + check.key
  const openKey = (id: string): string => `${prefix}o:${id}`
  let closed = false
  const assertOpen = (): void => {
    if (closed) throw new Error('the counter store is closed')
  }

  return {
    kind: 'redis',
    async acquire (checks) {
      assertOpen()
      assertChecks(checks)
      const id = newReservationId()
      if (checks.length === 0) return acquireResult(checks, [], id)
      const args: Array<string | number> = [clock(), id, RESERVATION_TTL_MS]
      for (const check of checks) args.push(...acquireArgs(check))
      const reply = numbers(await runScript(redis, acquireScript, [...checks.map(counterKey), openKey(id)], args))
      const outcomes: CheckOutcome[] = checks.map((_, i) => {
        const [pass, remaining, resetMs, retry] = reply.slice(1 + i * 4, 5 + i * 4) as [number, number, number, number]
        return { pass: pass === 1, remaining, resetMs, retryAfterMs: retry < 0 ? null : retry }
      })
      return acquireResult(checks, outcomes, id)
    },
    async settle (reservation, actual) {
      assertOpen()
      assertActuals(actual)
      if (reservation.checks.length === 0) return []
      const args: Array<string | number> = [clock(), reservation.id]
      for (const check of reservation.checks) {
        const shape = code[check.kind] === 'g' ? gcraShape(check.limit, check.windowMs) : { tick: 0, interval: 1 }
        args.push(code[check.kind], check.cost, actual.get(check.key) ?? '', check.resetAt ?? '', shape.tick, shape.interval)
      }
      const reply = numbers(await runScript(redis, settleScript, [openKey(reservation.id), ...reservation.checks.map(counterKey)], args))
      const movements: BudgetMovement[] = []
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const check = reservation.checks[(reply[i] as number) - 1] as LimitCheck
        movements.push({ key: check.key, limit: check.limit, before: reply[i + 1] as number, after: reply[i + 2] as number })
      }
      return movements
    },
    async seedBudget (key, spentMicroUsd, resetAt) {
      assertOpen()
      // NX: a live counter (other instances are spending against it) is never overwritten.
      await redis.set(`${prefix}b:${key}`, String(Math.max(0, Math.ceil(spentMicroUsd))), 'PXAT', Math.floor(resetAt), 'NX')
    },
    async peekBudgets (keys) {
      assertOpen()
      if (keys.length === 0) return new Map()
      const reply = numbers(await runScript(redis, peekScript, keys.map((key) => `${prefix}b:${key}`), [clock()]))
      return new Map(keys.map((key, i) => [key, reply[i] ?? 0]))
    },
    async ping () {
      assertOpen()
      await redis.ping()
    },
    async close () {
      if (closed) return
      closed = true
      if (!owned) return
      try {
        await redis.quit()
      } catch {
        redis.disconnect()
      }
    }
  }
}
