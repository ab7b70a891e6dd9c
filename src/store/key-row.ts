import type { KeyRecord } from './store.ts'

/**
 * The `api_keys` row as every adapter stores it: timestamps as integer epoch ms, lists and
 * metadata as JSON text. One mapping, so the adapters cannot drift apart.
 */
export const keyColumns = 'id, name, tenant, scopes, roles, models, allowed_ips, secret_hash, last_four, previous_secret_hash, ' +
  'previous_expires_at, metadata, created_at, created_by, last_used_at, expires_at, revoked_at, rotated_at'

export type KeyRowValue = string | number | null

export function keyToRow (k: KeyRecord): KeyRowValue[] {
  return [k.id, k.name, k.tenant, JSON.stringify(k.scopes), JSON.stringify(k.roles), json(k.models), json(k.allowedIps),
    k.secretHash, k.lastFour, k.previousSecretHash, k.previousExpiresAt, json(k.metadata), k.createdAt, k.createdBy,
    k.lastUsedAt, k.expiresAt, k.revokedAt, k.rotatedAt]
}

// Drivers differ in how they return BIGINT (pg: a string, since it may exceed 2^53; epoch
// milliseconds never do), so every number goes through Number().
export function rowToKey (row: Readonly<Record<string, unknown>>): KeyRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    tenant: strOrNull(row.tenant),
    scopes: JSON.parse(String(row.scopes)) as string[],
    roles: JSON.parse(String(row.roles)) as string[],
    models: listOrNull(row.models),
    allowedIps: listOrNull(row.allowed_ips),
    secretHash: String(row.secret_hash),
    lastFour: String(row.last_four),
    previousSecretHash: strOrNull(row.previous_secret_hash),
    previousExpiresAt: numOrNull(row.previous_expires_at),
    metadata: row.metadata === null ? null : JSON.parse(String(row.metadata)) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    createdBy: strOrNull(row.created_by),
    lastUsedAt: numOrNull(row.last_used_at),
    expiresAt: numOrNull(row.expires_at),
    revokedAt: numOrNull(row.revoked_at),
    rotatedAt: numOrNull(row.rotated_at)
  }
}

/** JSON text, keeping SQL NULL distinct from an empty list: null means "no restriction", [] means "nothing". */
export function json (value: unknown): string | null {
  return value === null ? null : JSON.stringify(value)
}

export function listOrNull (value: unknown): string[] | null {
  return value === null || value === undefined ? null : JSON.parse(String(value)) as string[]
}

export function strOrNull (value: unknown): string | null {
  return value === null || value === undefined ? null : String(value)
}

export function numOrNull (value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}
