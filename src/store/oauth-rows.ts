import type { ClientRecord, RevokedToken, SigningKeyRecord } from './store.ts'
import { json, listOrNull, numOrNull, strOrNull } from './key-row.ts'

/**
 * The `oauth_clients`, `signing_keys` and `revoked_tokens` rows as every adapter stores them:
 * epoch ms integers, lists and objects as JSON text. Numbers go through Number() because pg
 * returns BIGINT as text.
 */
export const clientColumns = 'id, name, tenant, scopes, roles, models, allowed_ips, tokens_revoked_before, secret_hash, ' +
  'previous_secret_hash, previous_expires_at, metadata, created_at, created_by, disabled_at, rotated_at'

export const signingKeyColumns = 'kid, alg, public_jwk, wrapped_private_key, created_at, retired_at, retire_after'

export const revokedTokenColumns = 'jti, expires_at, revoked_at'

type Value = string | number | null
type Row = Readonly<Record<string, unknown>>

export function clientToRow (c: ClientRecord): Value[] {
  return [c.id, c.name, c.tenant, JSON.stringify(c.scopes), JSON.stringify(c.roles), json(c.models), json(c.allowedIps),
    c.tokensRevokedBefore, c.secretHash, c.previousSecretHash, c.previousExpiresAt, json(c.metadata), c.createdAt, c.createdBy,
    c.disabledAt, c.rotatedAt]
}

export function rowToClient (row: Row): ClientRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    tenant: strOrNull(row.tenant),
    scopes: JSON.parse(String(row.scopes)) as string[],
    roles: JSON.parse(String(row.roles)) as string[],
    models: listOrNull(row.models),
    allowedIps: listOrNull(row.allowed_ips),
    tokensRevokedBefore: numOrNull(row.tokens_revoked_before),
    secretHash: String(row.secret_hash),
    previousSecretHash: strOrNull(row.previous_secret_hash),
    previousExpiresAt: numOrNull(row.previous_expires_at),
    metadata: row.metadata === null ? null : JSON.parse(String(row.metadata)) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    createdBy: strOrNull(row.created_by),
    disabledAt: numOrNull(row.disabled_at),
    rotatedAt: numOrNull(row.rotated_at)
  }
}

export function signingKeyToRow (k: SigningKeyRecord): Value[] {
  return [k.kid, k.alg, JSON.stringify(k.publicJwk), k.wrappedPrivateKey, k.createdAt, k.retiredAt, k.retireAfter]
}

export function rowToSigningKey (row: Row): SigningKeyRecord {
  return {
    kid: String(row.kid),
    alg: String(row.alg),
    publicJwk: JSON.parse(String(row.public_jwk)) as Record<string, unknown>,
    wrappedPrivateKey: String(row.wrapped_private_key),
    createdAt: Number(row.created_at),
    retiredAt: numOrNull(row.retired_at),
    retireAfter: numOrNull(row.retire_after)
  }
}

export function rowToRevokedToken (row: Row): RevokedToken {
  return { jti: String(row.jti), expiresAt: Number(row.expires_at), revokedAt: Number(row.revoked_at) }
}
