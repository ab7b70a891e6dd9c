import pg from 'pg'
import { migrate } from './migrations.ts'
import { postgresPoolConfig, type PostgresPoolSettings } from './postgres-pool-config.ts'

/**
 * A pg pool on `url` whose `schema` is migrated to the current version, or an error (the pool
 * closed again). pg emits 'error' for idle connections that die (server restart, network);
 * unhandled, it would end the process: the pool drops the connection and opens a new one on the
 * next query, and the warning names `what` the pool serves.
 */
export async function openMigratedPool (url: string, settings: PostgresPoolSettings, schema: string, log: { warn (obj: object, msg: string): void } | undefined, what: string): Promise<pg.Pool> {
  const pool = new pg.Pool(postgresPoolConfig(url, settings))
  pool.on('error', (err) => log?.warn({ err }, `an idle PostgreSQL connection${what} failed; the pool replaces it`))
  try {
    await migrate(pool, schema)
  } catch (err) {
    await pool.end().catch(() => {})
    throw err
  }
  return pool
}
