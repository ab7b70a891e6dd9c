import pg from 'pg'
import type { Store } from '../store.ts'
import { openMigratedPool } from './open-migrated-pool.ts'
import { createPostgresClientStore, createPostgresSigningKeyStore } from './postgres-oauth-stores.ts'
import { createPostgresKeyStore } from './postgres-key-store.ts'
import { createPostgresRevokedTokenStore } from './postgres-revoked-token-store.ts'
import { createPostgresPolicyStore, createPostgresPriceStore, createPostgresUsageStore } from './postgres-limits-stores.ts'
import { defaultPoolSettings, type PostgresPoolSettings } from './postgres-pool-config.ts'
import { defaultSchema, schemaIdentifier } from './schema-identifier.ts'
import { withClient } from './with-client.ts'

/** Where (pino-compatible) the store reports connection trouble that no caller is waiting for. */
export interface PostgresStoreLog {
  warn (obj: object, msg?: string): void
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database?sslmode=verify-full` */
  readonly url: string
  /** Schema holding the tables, created when missing; default `portcullis`. */
  readonly schema?: string
  readonly log?: PostgresStoreLog
  readonly pool?: PostgresPoolSettings
}

/** Connects to PostgreSQL, migrates `schema` and returns the store; rejects if the database is unreachable. */
export async function openPostgresStore (options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? defaultSchema
  schemaIdentifier(schema)
  const settings = { ...defaultPoolSettings, ...options.pool }
  const pool = await openMigratedPool(options.url, settings, schema, options.log, '')
  let closing: Promise<void> | null = null
  return {
    kind: 'postgres',
    keys: createPostgresKeyStore(pool, schema),
    clients: createPostgresClientStore(pool, schema),
    signingKeys: createPostgresSigningKeyStore(pool, schema),
    revokedTokens: createPostgresRevokedTokenStore(pool, schema),
    policies: createPostgresPolicyStore(pool, schema),
    prices: createPostgresPriceStore(pool, schema),
    usage: createPostgresUsageStore(pool, schema),
    async ping () {
      if (closing !== null) throw new Error('the PostgreSQL store is closed')
      await pingOnce(pool, settings.connectionTimeoutMs)
    },
    async close () {
      closing ??= pool.end()
      await closing
    }
  }
}

/**
 * `SELECT 1` on a pooled connection, within `timeoutMs` once connected. A connection whose peer
 * stopped answering would otherwise hang until TCP keepalive gives up; withClient destroys it.
 */
async function pingOnce (pool: pg.Pool, timeoutMs: number): Promise<void> {
  await withClient(pool, async (client) => {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`)), timeoutMs)
        })
      ])
    } finally {
      clearTimeout(timer)
    }
  })
}
