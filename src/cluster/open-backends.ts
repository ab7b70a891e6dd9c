import { Redis } from 'ioredis'
import type { Config } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Store } from '../store/store.ts'
import type { ReadinessCheck } from '../server/health-routes.ts'
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'
import { openPostgresStore } from '../store/postgres/postgres-store.ts'
import { createLocalChangeBus, createRedisChangeBus, type ChangeBus } from './change-bus.ts'

/** The shared state of a deployment: the store, and Redis when several instances cooperate. */
export interface Backends {
  readonly store: Store
  /** Null on the embedded default (one instance, in-process counters). */
  readonly redis: Redis | null
  readonly bus: ChangeBus
  readonly readiness: Readonly<Record<string, ReadinessCheck>>
  close (): Promise<void>
}

export interface BackendUrls {
  readonly databaseUrl: string | null
  readonly redisUrl: string | null
}

/**
 * Opens the store (SQLite in the data dir, or PostgreSQL) and Redis. Both must answer at start:
 * a gateway that cannot reach them fails to start rather than running without its limits. Later
 * outages fail closed per request (503) and show in `/readyz`.
 */
export async function openBackends (config: Readonly<Config>, urls: BackendUrls, log: Logger): Promise<Backends> {
  const store = urls.databaseUrl === null
    ? await openSqliteStore({ dataDir: config.data_dir })
    : await openPostgresStore({ url: urls.databaseUrl, schema: config.database_schema, log }).catch((err: unknown) => {
      throw new Error(`database_url: cannot open the PostgreSQL store (${redact((err as Error).message)})`)
    })
  if (urls.redisUrl === null) {
    return { store, redis: null, bus: createLocalChangeBus(), readiness: { store: () => store.ping() }, close: () => store.close() }
  }
  let redis: Redis | null = null
  try {
    redis = new Redis(urls.redisUrl, {
      // Commands fail fast while disconnected instead of queueing behind the request: the limits
      // stage turns that into 503 (or local limits) at once.
      enableOfflineQueue: false,
      // Commands issued in the same event-loop turn (the limit checks of concurrent requests)
      // leave in one write: one syscall for many requests under load, no delay when idle.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
      lazyConnect: true
    })
    redis.on('error', (err: Error) => { log.warn({ err: { message: err.message } }, 'redis connection error') })
    await redis.connect()
    await redis.ping()
    const bus = await createRedisChangeBus({ redis, channel: `${config.redis_key_prefix}changes`, log })
    const connection = redis
    return {
      store,
      redis,
      bus,
      readiness: { store: () => store.ping(), redis: async () => { await connection.ping() } },
      async close () {
        await bus.close()
        connection.disconnect()
        await store.close()
      }
    }
  } catch (err) {
    redis?.disconnect()
    await store.close()
    // The URL may hold a password: only the reason is reported.
    throw new Error(`redis_url: cannot connect to Redis (${redact((err as Error).message)})`)
  }
}

/** Connection URLs may hold passwords: none reaches a message. */
function redact (message: string): string {
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
}
