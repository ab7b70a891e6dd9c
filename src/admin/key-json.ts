import type { KeyRecord } from '../store/store.ts'
import type { KeyStatus } from '../auth/key-service.ts'
import { unixSeconds } from './unix-seconds.ts'

/** An API key as the admin API shows it (snake_case, Unix seconds like the OpenAI API). Never the hash. */
export interface KeyJson {
  object: 'api_key'
  id: string
  name: string
  tenant: string | null
  scopes: string[]
  roles: string[]
  models: string[] | null
  allowed_ips: string[] | null
  last_four: string
  created_at: number
  created_by: string | null
  last_used_at: number | null
  expires_at: number | null
  revoked_at: number | null
  rotated_at: number | null
  status: KeyStatus
  metadata: Record<string, unknown> | null
  /** Only in the answers to create and rotate. */
  secret?: string
}


// Fields are copied one by one: spreading the record would leak secretHash into responses.
export function keyJson (key: KeyRecord, status: KeyStatus, secret?: string): KeyJson {
  const json: KeyJson = {
    object: 'api_key',
    id: key.id,
    name: key.name,
    tenant: key.tenant,
    scopes: [...key.scopes],
    roles: [...key.roles],
    models: key.models === null ? null : [...key.models],
    allowed_ips: key.allowedIps === null ? null : [...key.allowedIps],
    last_four: key.lastFour,
    created_at: Math.floor(key.createdAt / 1000),
    created_by: key.createdBy,
    last_used_at: unixSeconds(key.lastUsedAt),
    expires_at: unixSeconds(key.expiresAt),
    revoked_at: unixSeconds(key.revokedAt),
    rotated_at: unixSeconds(key.rotatedAt),
    status,
    metadata: key.metadata === null ? null : { ...key.metadata }
  }
  if (secret !== undefined) json.secret = secret
  return json
}
