import type { DatabaseSync } from 'node:sqlite'
import { inTransaction } from './transaction.ts'
import type { Migration } from '../migration.ts'

export const migrations: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'api_keys',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT,
        scopes TEXT NOT NULL,
        models TEXT,
        secret_hash TEXT NOT NULL,
        last_four TEXT NOT NULL,
        previous_secret_hash TEXT,
        previous_expires_at INTEGER,
        metadata TEXT,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        last_used_at INTEGER,
        expires_at INTEGER,
        revoked_at INTEGER,
        rotated_at INTEGER
      );
      CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);
      CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant, created_at, id);
    `
  },
  {
    version: 2,
    name: 'oauth_clients_and_signing_keys',
    sql: `
      CREATE TABLE oauth_clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT,
        scopes TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        previous_secret_hash TEXT,
        previous_expires_at INTEGER,
        metadata TEXT,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        disabled_at INTEGER,
        rotated_at INTEGER
      );
      CREATE INDEX oauth_clients_created_idx ON oauth_clients (created_at, id);
      CREATE INDEX oauth_clients_tenant_created_idx ON oauth_clients (tenant, created_at, id);
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        wrapped_private_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER,
        retire_after INTEGER
      );
    `
  },
  {
    version: 3,
    name: 'roles_ip_allowlists_and_revoked_tokens',
    // Existing keys and clients get no roles and no IP restriction: their access is unchanged.
    sql: `
      ALTER TABLE api_keys ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
      ALTER TABLE oauth_clients ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE oauth_clients ADD COLUMN models TEXT;
      ALTER TABLE oauth_clients ADD COLUMN allowed_ips TEXT;
      ALTER TABLE oauth_clients ADD COLUMN tokens_revoked_before INTEGER;
      CREATE TABLE revoked_tokens (
        jti TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL
      );
      CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
    `
  },
  {
    version: 4,
    name: 'policies_prices_usage',
    // usage_hourly stores '' for an absent key, client or tenant: NULLs never collide in a unique
    // key, so the upsert would add rows instead of summing (see limits-rows.ts usageCells).
    sql: `
      CREATE TABLE policies (
        id TEXT PRIMARY KEY,
        target_kind TEXT NOT NULL,
        target_id TEXT,
        tenant TEXT,
        requests_per_minute INTEGER,
        tokens_per_minute INTEGER,
        concurrent_requests INTEGER,
        budget_micro_usd INTEGER,
        budget_period TEXT,
        max_tokens INTEGER,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE prices (
        model TEXT PRIMARY KEY,
        input_micro_usd_per_million INTEGER NOT NULL,
        output_micro_usd_per_million INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT
      );
      CREATE TABLE usage_hourly (
        hour INTEGER NOT NULL,
        key_id TEXT NOT NULL DEFAULT '',
        client_id TEXT NOT NULL DEFAULT '',
        tenant TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_micro_usd INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, key_id, client_id, tenant, model)
      ) WITHOUT ROWID;
      CREATE INDEX usage_hourly_tenant_idx ON usage_hourly (tenant, hour);
    `
  },
  {
    version: 5,
    name: 'audit_records',
    // Version 5 of PostgreSQL creates the audit mirror table. Embedded mode searches the segment
    // files in DATA_DIR/audit directly, so there is nothing to create; the step exists so that
    // both adapters number their schema alike.
    sql: 'SELECT 1'
  }
])

/**
 * Brings the schema up to date. `BEGIN IMMEDIATE` takes the write lock before reading the
 * version, so two processes starting at once apply each step exactly once.
 */
export function migrate (db: DatabaseSync, list: readonly Migration[] = migrations, now: () => number = Date.now): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0)
  for (const migration of list) {
    inTransaction(db, () => {
      const current = currentVersion(db)
      if (current > latest) throw new Error(`the database schema (version ${current}) is newer than this Portcullis knows (${latest}); upgrade Portcullis`)
      if (migration.version > current) {
        db.exec(migration.sql)
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, now())
      }
    }, 'IMMEDIATE')
  }
}

export function currentVersion (db: DatabaseSync): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get()
  return typeof row?.version === 'number' ? row.version : 0
}
