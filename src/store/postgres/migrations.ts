import { createHash } from 'node:crypto'
import type { ClientBase, Pool } from 'pg'
import { schemaIdentifier } from './schema-identifier.ts'
import { inTransaction } from './transaction.ts'
import { withClient } from './with-client.ts'
import type { Migration } from '../migration.ts'

export const migrations: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'api_keys',
    // COLLATE "C" orders ids by byte like SQLite does, whatever the database's locale.
    sql: `
      CREATE TABLE api_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT,
        scopes TEXT NOT NULL,
        models TEXT,
        secret_hash TEXT NOT NULL,
        last_four TEXT NOT NULL,
        previous_secret_hash TEXT,
        previous_expires_at BIGINT,
        metadata TEXT,
        created_at BIGINT NOT NULL,
        created_by TEXT,
        last_used_at BIGINT,
        expires_at BIGINT,
        revoked_at BIGINT,
        rotated_at BIGINT
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
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT,
        scopes TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        previous_secret_hash TEXT,
        previous_expires_at BIGINT,
        metadata TEXT,
        created_at BIGINT NOT NULL,
        created_by TEXT,
        disabled_at BIGINT,
        rotated_at BIGINT
      );
      CREATE INDEX oauth_clients_created_idx ON oauth_clients (created_at, id);
      CREATE INDEX oauth_clients_tenant_created_idx ON oauth_clients (tenant, created_at, id);
      CREATE TABLE signing_keys (
        kid TEXT COLLATE "C" PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        wrapped_private_key TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        retired_at BIGINT,
        retire_after BIGINT
      );
    `
  },
  {
    version: 3,
    name: 'roles_ip_allowlists_and_revoked_tokens',
    // Existing keys and clients get no roles and no IP restriction: their access is unchanged.
    sql: `
      ALTER TABLE api_keys
        ADD COLUMN roles TEXT NOT NULL DEFAULT '[]',
        ADD COLUMN allowed_ips TEXT;
      ALTER TABLE oauth_clients
        ADD COLUMN roles TEXT NOT NULL DEFAULT '[]',
        ADD COLUMN models TEXT,
        ADD COLUMN allowed_ips TEXT,
        ADD COLUMN tokens_revoked_before BIGINT;
      CREATE TABLE revoked_tokens (
        jti TEXT COLLATE "C" PRIMARY KEY,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT NOT NULL
      );
      CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
    `
  },
  {
    version: 4,
    name: 'policies_prices_usage',
    // usage_hourly stores '' for an absent key, client or tenant: NULLs never collide in a unique
    // key, so ON CONFLICT would insert rows instead of summing (see limits-rows.ts usageCells).
    // The primary key is the unique index ON CONFLICT (hour, key_id, client_id, tenant, model) needs.
    sql: `
      CREATE TABLE policies (
        id TEXT COLLATE "C" PRIMARY KEY,
        target_kind TEXT NOT NULL,
        target_id TEXT COLLATE "C",
        tenant TEXT,
        requests_per_minute BIGINT,
        tokens_per_minute BIGINT,
        concurrent_requests BIGINT,
        budget_micro_usd BIGINT,
        budget_period TEXT,
        max_tokens BIGINT,
        created_at BIGINT NOT NULL,
        created_by TEXT,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE prices (
        model TEXT COLLATE "C" PRIMARY KEY,
        input_micro_usd_per_million BIGINT NOT NULL,
        output_micro_usd_per_million BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        updated_by TEXT
      );
      CREATE TABLE usage_hourly (
        hour BIGINT NOT NULL,
        key_id TEXT COLLATE "C" NOT NULL DEFAULT '',
        client_id TEXT COLLATE "C" NOT NULL DEFAULT '',
        tenant TEXT COLLATE "C" NOT NULL DEFAULT '',
        model TEXT COLLATE "C" NOT NULL,
        requests BIGINT NOT NULL DEFAULT 0,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cost_micro_usd BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, key_id, client_id, tenant, model)
      );
      CREATE INDEX usage_hourly_tenant_idx ON usage_hourly (tenant, hour);
    `
  },
  {
    version: 5,
    name: 'audit_records',
    // The searchable mirror of the audit log (docs/audit.md, "The PostgreSQL mirror"); the segment
    // files stay the evidence. `record` is the canonical JSON line byte for byte (TEXT, not JSONB,
    // which would reorder keys and break the mac); the other columns are copies for the filters.
    // Pages are in `id` order (arrival), so each filter column is indexed together with `id`.
    sql: `
      CREATE TABLE audit_records (
        id BIGSERIAL PRIMARY KEY,
        mac TEXT COLLATE "C" NOT NULL UNIQUE,
        seq BIGINT NOT NULL,
        type TEXT,
        ts BIGINT,
        api_key_id TEXT COLLATE "C",
        client_id TEXT COLLATE "C",
        tenant TEXT COLLATE "C",
        status INTEGER,
        error TEXT,
        ip TEXT,
        record TEXT NOT NULL
      );
      CREATE INDEX audit_records_ts_idx ON audit_records (ts, id);
      CREATE INDEX audit_records_key_idx ON audit_records (api_key_id, id);
      CREATE INDEX audit_records_client_idx ON audit_records (client_id, id);
      CREATE INDEX audit_records_tenant_idx ON audit_records (tenant, id);
    `
  }
])

/**
 * Brings `schema` up to date. Every step takes a transaction-scoped advisory lock first, so two
 * instances starting at once queue behind each other and each step is applied exactly once.
 */
export async function migrate (pool: Pool, schema: string, list: readonly Migration[] = migrations, now: () => number = Date.now): Promise<void> {
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0)
  await withClient(pool, async (client) => {
    for (const migration of list) {
      await inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey(schema)])
        await ensureBookkeeping(client, schema)
        const current = await currentVersion(client, schema)
        if (current > latest) throw new Error(`the database schema (version ${current}) is newer than this Portcullis knows (${latest}); upgrade Portcullis`)
        if (migration.version <= current) return
        await client.query("SELECT set_config('search_path', $1, true)", [schemaIdentifier(schema)])
        await client.query(migration.sql)
        await client.query(`INSERT INTO ${schemaIdentifier(schema)}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
          [migration.version, migration.name, now()])
      })
    }
  })
}

/** The highest applied version, 0 for a schema that has none yet. */
export async function currentVersion (client: ClientBase | Pool, schema: string): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM ${schemaIdentifier(schema)}.schema_migrations`)
  return rows[0]?.version ?? 0
}

/**
 * Creates the schema and the bookkeeping table only when missing: `CREATE ... IF NOT EXISTS`
 * still demands CREATE privilege, which a runtime role on an already migrated database may lack.
 */
async function ensureBookkeeping (client: ClientBase, schema: string): Promise<void> {
  const id = schemaIdentifier(schema)
  const { rows } = await client.query<{ has_schema: boolean, has_table: boolean }>(
    'SELECT to_regnamespace($1) IS NOT NULL AS has_schema, to_regclass($2) IS NOT NULL AS has_table',
    [id, `${id}.schema_migrations`])
  if (rows[0]?.has_schema !== true) await client.query(`CREATE SCHEMA ${id}`)
  if (rows[0]?.has_table !== true) {
    await client.query(`CREATE TABLE ${id}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
  }
}

/** A stable 64-bit lock id per schema, so stores in different schemas do not wait for each other. */
function migrationLockKey (schema: string): string {
  return createHash('sha256').update('portcullis.migrate.' + schema).digest().readBigInt64BE(0).toString()
}
