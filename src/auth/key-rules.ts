import { GatewayError } from '../errors/gateway-error.ts'
import { isKnownScope, type Scope } from './scopes.ts'
import type { RoleTable } from './roles.ts'
import { ipEntryProblem } from '../lib/ip-list.ts'

/** What a caller asks for when creating a key (admin API field names in `param`). */
export interface NewKeyInput {
  readonly name: string
  readonly tenant?: string | null
  readonly scopes: readonly string[]
  /** Role names from `auth.roles`. */
  readonly roles?: readonly string[]
  readonly models?: readonly string[] | null
  /** Client IP allowlist: addresses and CIDR ranges, IPv4 or IPv6; null = any. */
  readonly allowedIps?: readonly string[] | null
  /** Epoch ms; null or absent = never expires (unless `keys.max_ttl_seconds` is set). */
  readonly expiresAt?: number | null
  readonly metadata?: Readonly<Record<string, unknown>> | null
  readonly createdBy?: string | null
}

export interface ValidNewKey {
  readonly name: string
  readonly tenant: string | null
  readonly scopes: Scope[]
  readonly roles: string[]
  readonly models: string[] | null
  readonly allowedIps: string[] | null
  readonly expiresAt: number | null
  readonly metadata: Readonly<Record<string, unknown>> | null
}

const maxMetadataBytes = 4096
const maxModels = 100
const maxIpEntries = 100
// C0/C1 control characters would corrupt tables, logs and terminal output.
const controlChars = /[\u0000-\u001f\u007f-\u009f]/

export function invalid (param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { param, message })
}

/** A 1..max character string without control characters, or `invalid_request` naming `param`. */
export function text (value: string, param: string, max: number): string {
  if (value.length < 1 || value.length > max) throw invalid(param, `${param} must be 1 to ${max} characters`)
  if (controlChars.test(value)) throw invalid(param, `${param} must not contain control characters`)
  return value
}

/** Checks the rules a new key must meet; throws `invalid_request` naming the field. */
export function validateNewKey (input: NewKeyInput, now: number, maxTtlSeconds: number | null, roleTable: RoleTable): ValidNewKey {
  const scopes = validateScopes(input.scopes)
  const roles = validateRoles(input.roles ?? [], roleTable)
  if (scopes.length === 0 && roles.length === 0) throw invalid('scopes', 'name at least one scope or role')
  return {
    name: text(input.name, 'name', 128),
    tenant: input.tenant === undefined || input.tenant === null ? null : text(input.tenant, 'tenant', 128),
    scopes,
    roles,
    models: validateModels(input.models ?? null),
    allowedIps: validateAllowedIps(input.allowedIps ?? null),
    expiresAt: validateExpiry(input.expiresAt ?? null, now, maxTtlSeconds),
    metadata: validateMetadata(input.metadata ?? null)
  }
}

export function validateScopes (requested: readonly string[]): Scope[] {
  const scopes = [...new Set(requested)]
  for (const scope of scopes) {
    if (!isKnownScope(scope)) throw invalid('scopes', `unknown scope "${scope.slice(0, 40)}"`)
  }
  return scopes as Scope[]
}

export function validateRoles (requested: readonly string[], roleTable: RoleTable): string[] {
  const roles = [...new Set(requested)]
  for (const role of roles) {
    if (!Object.hasOwn(roleTable, role)) throw invalid('roles', `unknown role "${role.slice(0, 40)}"`)
  }
  return roles
}

export function validateAllowedIps (entries: readonly string[] | null): string[] | null {
  if (entries === null) return null
  if (entries.length === 0 || entries.length > maxIpEntries) throw invalid('allowed_ips', `allowed_ips must list 1 to ${maxIpEntries} addresses or CIDR ranges, or be null for any address`)
  for (const entry of entries) {
    const problem = ipEntryProblem(entry)
    if (problem !== null) throw invalid('allowed_ips', `"${entry.slice(0, 50)}" ${problem}`)
  }
  return [...new Set(entries)]
}

export function validateModels (models: readonly string[] | null): string[] | null {
  if (models === null) return null
  if (models.length === 0 || models.length > maxModels) throw invalid('models', `models must list 1 to ${maxModels} patterns, or be null for every model`)
  for (const pattern of models) {
    text(pattern, 'models', 256)
    if (pattern.indexOf('*') !== -1 && pattern.indexOf('*') !== pattern.length - 1) {
      throw invalid('models', 'only a trailing * is supported in model patterns')
    }
  }
  return [...new Set(models)]
}

function validateExpiry (expiresAt: number | null, now: number, maxTtlSeconds: number | null): number | null {
  if (expiresAt === null) {
    if (maxTtlSeconds !== null) throw invalid('expires_at', `an expiry is required: keys may live at most ${maxTtlSeconds} seconds`)
    return null
  }
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) throw invalid('expires_at', 'expires_at must be in the future')
  if (maxTtlSeconds !== null && expiresAt - now > maxTtlSeconds * 1000) {
    throw invalid('expires_at', `keys may live at most ${maxTtlSeconds} seconds`)
  }
  return expiresAt
}

export function validateMetadata (metadata: Readonly<Record<string, unknown>> | null): Readonly<Record<string, unknown>> | null {
  if (metadata === null) return null
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('metadata', 'metadata must be a JSON object')
  if (Buffer.byteLength(JSON.stringify(metadata)) > maxMetadataBytes) {
    throw invalid('metadata', `metadata must be at most ${maxMetadataBytes} bytes of JSON`)
  }
  return metadata
}
