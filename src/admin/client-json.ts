import type { ClientRecord } from '../store/store.ts'
import type { ClientStatus } from '../oauth/client-service.ts'
import { unixSeconds } from './unix-seconds.ts'

/**
 * An OAuth client as the admin API shows it (snake_case, Unix seconds like key-json.ts). Never
 * a secret hash. `id` and `client_id` are the same value: `id` like every admin object (paging
 * cursors, delete answers), `client_id` as RFC 6749 §2.2 and OAuth libraries name it.
 */
export interface ClientJson {
  object: 'oauth_client'
  id: string
  client_id: string
  name: string
  tenant: string | null
  scopes: string[]
  roles: string[]
  models: string[] | null
  allowed_ips: string[] | null
  status: ClientStatus
  created_at: number
  created_by: string | null
  rotated_at: number | null
  /** When the secret replaced by the last rotation stops working; null without a rotation. */
  previous_secret_expires_at: number | null
  disabled_at: number | null
  tokens_revoked_before: number | null
  metadata: Record<string, unknown> | null
  /** Only in the answers to create and rotate. */
  client_secret?: string
}

/** The answer to `DELETE /clients/:id`. */
export interface DeletedClientJson {
  id: string
  object: 'oauth_client'
  deleted: true
}


// Fields are copied one by one: spreading the record would leak secretHash into responses.
export function clientJson (client: ClientRecord, status: ClientStatus, secret?: string): ClientJson {
  const json: ClientJson = {
    object: 'oauth_client',
    id: client.id,
    client_id: client.id,
    name: client.name,
    tenant: client.tenant,
    scopes: [...client.scopes],
    roles: [...client.roles],
    models: client.models === null ? null : [...client.models],
    allowed_ips: client.allowedIps === null ? null : [...client.allowedIps],
    status,
    created_at: Math.floor(client.createdAt / 1000),
    created_by: client.createdBy,
    rotated_at: unixSeconds(client.rotatedAt),
    previous_secret_expires_at: client.previousSecretHash === null ? null : unixSeconds(client.previousExpiresAt),
    disabled_at: unixSeconds(client.disabledAt),
    tokens_revoked_before: unixSeconds(client.tokensRevokedBefore),
    metadata: client.metadata === null ? null : { ...client.metadata }
  }
  if (secret !== undefined) json.client_secret = secret
  return json
}
