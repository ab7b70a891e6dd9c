import type { PoolConfig } from 'pg'

/** Pool bounds and timeouts; every field has a default suited to one gateway instance. */
export interface PostgresPoolSettings {
  /** Most connections this instance holds open. */
  readonly maxConnections?: number
  /** Longest wait for a connection, new or from the pool, before the call rejects. */
  readonly connectionTimeoutMs?: number
  /** Server-side limit per statement (`statement_timeout`). */
  readonly statementTimeoutMs?: number
  /** An idle connection is closed after this long. */
  readonly idleTimeoutMs?: number
}

export const defaultPoolSettings: Required<PostgresPoolSettings> = Object.freeze({
  maxConnections: 10,
  connectionTimeoutMs: 5_000,
  statementTimeoutMs: 10_000,
  idleTimeoutMs: 30_000
})


/**
 * The pg pool configuration for `url`. TLS follows the URL's `sslmode`: absent or `disable` is
 * plain TCP, `verify-full` is TLS with the certificate chain and host name verified (CA from
 * `sslrootcert`, else Node's bundled roots) and no fallback to plain TCP. pg 8 reads `prefer`,
 * `require` and `verify-ca` as verify-full but announces libpq's weaker meaning (no or partial
 * verification) for pg 9, so they are refused now rather than silently weakened by an upgrade.
 * Errors never echo the URL (it may hold a password).
 */
export function postgresPoolConfig (url: string, settings: PostgresPoolSettings = {}): PoolConfig {
  const parsed = parseUrl(url)
  const params = parsed.searchParams
  const sslmode = params.get('sslmode')
  if (sslmode !== null && sslmode !== 'verify-full' && sslmode !== 'disable') {
    throw new Error(`database URL: sslmode=${sslmode} is not accepted; use sslmode=verify-full (with sslrootcert=/path/ca.pem for a private CA), or leave it out for plain TCP on a trusted network`)
  }
  if (params.has('uselibpqcompat')) {
    throw new Error('database URL: uselibpqcompat is not accepted; its require/prefer modes skip certificate verification')
  }
  if (sslmode !== 'verify-full' && ['sslrootcert', 'sslcert', 'sslkey'].some((name) => params.has(name))) {
    throw new Error('database URL: sslrootcert, sslcert and sslkey need sslmode=verify-full')
  }
  if (params.has('ssl')) throw new Error('database URL: use sslmode=... instead of ssl=...')
  const s = { ...defaultPoolSettings, ...settings }
  const usesTls = sslmode === 'verify-full'
  return {
    connectionString: url,
    // Explicit, so PGSSLMODE and friends in the environment cannot change what the URL says.
    ...(usesTls ? {} : { ssl: false }),
    max: s.maxConnections,
    connectionTimeoutMillis: s.connectionTimeoutMs,
    idleTimeoutMillis: s.idleTimeoutMs,
    statement_timeout: s.statementTimeoutMs,
    // A client stuck mid-transaction must not hold row or advisory locks for long.
    idle_in_transaction_session_timeout: s.statementTimeoutMs * 3,
    keepAlive: true,
    application_name: 'portcullis'
  }
}

function parseUrl (url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('database URL: not a valid URL (expected postgres://user:password@host:5432/database)')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`database URL: scheme ${parsed.protocol} is not PostgreSQL (expected postgres:// or postgresql://)`)
  }
  return parsed
}
