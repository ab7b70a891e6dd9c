import { randomBytes } from 'node:crypto'
import { GatewayError } from '../errors/gateway-error.ts'
import type { Scope } from '../auth/scopes.ts'
import type { RoleTable } from '../auth/roles.ts'
import { validateAllowedIps, validateModels, validateRoles, validateScopes } from '../auth/key-rules.ts'

/**
 * OAuth client ids look like `cli_<16 base62>` (~95 bits): unguessable enough that an id alone
 * says nothing, short enough to paste. The fixed shape lets the admin API answer 404 for a
 * malformed id without a store lookup.
 */
const clientIdPattern = /^cli_[0-9A-Za-z]{16}$/
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

export function isClientId (text: string): boolean {
  return clientIdPattern.test(text)
}

export function generateClientId (): string {
  let out = 'cli_'
  while (out.length < 20) {
    for (const byte of randomBytes(32)) {
      // Rejection sampling: 248 = 4 * 62, so accepted bytes map uniformly onto the alphabet.
      if (byte < 248 && out.length < 20) out += alphabet[byte % 62]
    }
  }
  return out
}

/** What a caller asks for when registering a client (admin API field names in `param`). */
export interface NewClientInput {
  readonly name: string
  readonly tenant?: string | null
  readonly scopes?: readonly string[]
  readonly roles?: readonly string[]
  readonly models?: readonly string[] | null
  readonly allowedIps?: readonly string[] | null
  readonly metadata?: Readonly<Record<string, unknown>> | null
  /** Public id of the credential that registers it. */
  readonly createdBy?: string | null
}

export interface ValidNewClient {
  readonly name: string
  readonly tenant: string | null
  readonly scopes: Scope[]
  readonly roles: string[]
  readonly models: string[] | null
  readonly allowedIps: string[] | null
  readonly metadata: Readonly<Record<string, unknown>> | null
}

const maxMetadataBytes = 4096
// C0/C1 control characters would corrupt tables, logs and terminal output.
const controlChars = /[\u0000-\u001f\u007f-\u009f]/

function invalid (param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { param, message })
}

function text (value: string, param: string, max: number): string {
  if (value.length < 1 || value.length > max) throw invalid(param, `${param} must be 1 to ${max} characters`)
  if (controlChars.test(value)) throw invalid(param, `${param} must not contain control characters`)
  return value
}

/** Checks the rules a new client must meet; throws `invalid_request` naming the field. */
export function validateNewClient (input: NewClientInput, roles: RoleTable): ValidNewClient {
  // The same rules and messages as API keys (key-rules.ts): one vocabulary across the admin API.
  const scopes = validateScopes(input.scopes ?? [])
  const roleNames = validateRoles(input.roles ?? [], roles)
  // A client with neither could authenticate but never obtain a useful token: surely a mistake.
  if (scopes.length === 0 && roleNames.length === 0) throw invalid('scopes', 'a client needs at least one scope or role')
  return {
    name: text(input.name, 'name', 128),
    tenant: input.tenant === undefined || input.tenant === null ? null : text(input.tenant, 'tenant', 128),
    scopes,
    roles: roleNames,
    models: validateModels(input.models ?? null),
    allowedIps: validateAllowedIps(input.allowedIps ?? null),
    metadata: validateMetadata(input.metadata ?? null)
  }
}

function validateMetadata (metadata: Readonly<Record<string, unknown>> | null): Readonly<Record<string, unknown>> | null {
  if (metadata === null) return null
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('metadata', 'metadata must be a JSON object')
  if (Buffer.byteLength(JSON.stringify(metadata)) > maxMetadataBytes) {
    throw invalid('metadata', `metadata must be at most ${maxMetadataBytes} bytes of JSON`)
  }
  return metadata
}
