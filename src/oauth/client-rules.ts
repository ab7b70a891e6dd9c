import { randomBase62 } from '../lib/random-base62.ts'
import type { Scope } from '../auth/scopes.ts'
import type { RoleTable } from '../auth/roles.ts'
import { invalid, text, validateAllowedIps, validateMetadata, validateModels, validateRoles, validateScopes } from '../auth/key-rules.ts'

/**
 * OAuth client ids look like `cli_<16 base62>` (~95 bits): unguessable enough that an id alone
 * says nothing, short enough to paste. The fixed shape lets the admin API answer 404 for a
 * malformed id without a store lookup.
 */
const clientIdPattern = /^cli_[0-9A-Za-z]{16}$/

export function isClientId (text: string): boolean {
  return clientIdPattern.test(text)
}

export function generateClientId (): string {
  return 'cli_' + randomBase62(16)
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
