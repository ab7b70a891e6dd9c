import type { Logger, Principal } from '../pipeline/context.ts'
import type { KeyPage, KeyRecord, KeyStore } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { generateApiKey, keyForId, parseApiKey } from './api-key-format.ts'
import { createApiKeyHasher, type ApiKeyHasher } from './api-key-hasher.ts'
import { createKeyVerifier, type KeyVerifier } from './key-verifier.ts'
import { validateNewKey, type NewKeyInput } from './key-rules.ts'
import { defaultRoles, type RoleTable } from './roles.ts'

export interface KeyServiceOptions {
  readonly store: KeyStore
  /** The 32-byte master key; the hashing pepper is derived from it. */
  readonly masterKey: Buffer
  /** `PORTCULLIS_ADMIN_KEY`, at least 32 characters, or null. */
  readonly bootstrapAdminKey: string | null
  /** The `keys` section of the config. */
  readonly config: { readonly cache_ttl_ms: number, readonly max_ttl_seconds: number | null, readonly last_used_flush_ms: number }
  readonly log: Logger
  /** Role table (`auth.roles` merged over the built-ins); default the built-ins. */
  readonly roles?: RoleTable
  /** Clock in epoch ms; injectable for tests. */
  readonly now?: () => number
}

export interface IssuedKey {
  readonly key: KeyRecord
  /** The full key string. Returned once, never stored. */
  readonly secret: string
}

export type KeyStatus = 'active' | 'revoked' | 'expired'

/** API key lifecycle and verification, with an in-memory cache in front of the store. */
export interface KeyService {
  create (input: NewKeyInput): Promise<IssuedKey>
  list (query: { tenant?: string | null, limit: number, after?: string | null }): Promise<KeyPage>
  /** Throws `not_found` for an unknown id. */
  get (id: string): Promise<KeyRecord>
  revoke (id: string): Promise<KeyRecord>
  /** New secret for the same id; the old one keeps working for `gracePeriodSeconds`. */
  rotate (id: string, gracePeriodSeconds?: number): Promise<IssuedKey>
  /** Resolves to the caller, or throws `invalid_api_key`, `revoked_credentials` or `expired_credentials`. */
  verify (presented: string): Principal | Promise<Principal>
  /** Without a bootstrap key and with no live admin key in the store, creates one and returns its secret. */
  ensureBootstrapAdmin (): Promise<string | null>
  status (key: KeyRecord): KeyStatus
  /** Forgets a cached key: another instance changed it. `null` forgets every key. */
  invalidate (id: string | null): void
  /** The role table keys are checked and expanded against. */
  readonly roles: RoleTable
  /** The service's clock (epoch ms), so callers computing expiries agree with its checks. */
  now (): number
  /** Writes pending `last_used_at` updates now. */
  flush (): Promise<void>
  close (): Promise<void>
}

/** Longest rotation grace: long enough for a slow deploy, short enough that a leak cannot linger. */
export const maxGracePeriodSeconds = 30 * 86_400

interface Deps {
  readonly store: KeyStore
  readonly hasher: ApiKeyHasher
  readonly verifier: KeyVerifier
  readonly maxTtlSeconds: number | null
  readonly roles: RoleTable
  readonly now: () => number
}

export function createKeyService (options: KeyServiceOptions): KeyService {
  const { store, config } = options
  const now = options.now ?? Date.now
  const roles = options.roles ?? defaultRoles
  const hasher = createApiKeyHasher(options.masterKey)
  if (options.bootstrapAdminKey !== null && options.bootstrapAdminKey.length < 32) {
    throw new Error('the bootstrap admin key (PORTCULLIS_ADMIN_KEY) must be at least 32 characters')
  }
  if (options.bootstrapAdminKey !== null && parseApiKey(options.bootstrapAdminKey) !== null) {
    throw new Error('the bootstrap admin key (PORTCULLIS_ADMIN_KEY) must not be a Portcullis API key: choose a separate random value')
  }
  const bootstrapHash = options.bootstrapAdminKey === null ? null : hasher.hash(options.bootstrapAdminKey)
  const verifier = createKeyVerifier({
    store, hasher, bootstrapHash, now, roles, log: options.log, cacheTtlMs: config.cache_ttl_ms, lastUsedFlushMs: config.last_used_flush_ms
  })
  const d: Deps = { store, hasher, verifier, maxTtlSeconds: config.max_ttl_seconds, roles, now }
  return {
    create: (input) => createKey(d, input),
    list: (query) => listKeys(d, query),
    get: (id) => getKey(d, id),
    revoke: (id) => revokeKey(d, id),
    rotate: (id, grace) => rotateKey(d, id, grace),
    verify: (presented) => verifier.verify(presented),
    async ensureBootstrapAdmin () {
      if (bootstrapHash !== null) return null
      if (await store.countActiveWithScope('admin', now()) > 0) return null
      const expiresAt = config.max_ttl_seconds === null ? null : now() + config.max_ttl_seconds * 1000
      return (await createKey(d, { name: 'bootstrap-admin', scopes: ['admin'], expiresAt, createdBy: 'system' })).secret
    },
    status: (key) => statusAt(key, now()),
    invalidate: (id) => { if (id === null) verifier.clear(); else verifier.invalidate(id) },
    roles,
    now,
    flush: () => verifier.flush(),
    close: () => verifier.close()
  }
}

function statusAt (key: KeyRecord, at: number): KeyStatus {
  if (key.revokedAt !== null) return 'revoked'
  if (key.expiresAt !== null && key.expiresAt <= at) return 'expired'
  return 'active'
}

function notFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No API key with this id.', param: 'id' })
}

async function getKey (d: Deps, id: string): Promise<KeyRecord> {
  const key = await d.store.get(id)
  if (key === null) throw notFound()
  return key
}

async function listKeys (d: Deps, query: { tenant?: string | null, limit: number, after?: string | null }): Promise<KeyPage> {
  if (query.after !== undefined && query.after !== null && await d.store.get(query.after) === null) {
    throw new GatewayError('invalid_request', { param: 'after', message: 'after must be the id of a key from the previous page' })
  }
  return d.store.list(query)
}

async function createKey (d: Deps, input: NewKeyInput): Promise<IssuedKey> {
  const at = d.now()
  const valid = validateNewKey(input, at, d.maxTtlSeconds, d.roles)
  const generated = generateApiKey()
  const key: KeyRecord = {
    ...valid,
    id: generated.id,
    secretHash: d.hasher.hash(generated.secret),
    lastFour: generated.lastFour,
    previousSecretHash: null,
    previousExpiresAt: null,
    createdAt: at,
    createdBy: input.createdBy ?? null,
    lastUsedAt: null,
    revokedAt: null,
    rotatedAt: null
  }
  await d.store.insert(key)
  d.verifier.invalidate(key.id)
  return { key, secret: generated.secret }
}

async function revokeKey (d: Deps, id: string): Promise<KeyRecord> {
  const key = await d.store.revoke(id, d.now())
  d.verifier.invalidate(id)
  if (key === null) throw notFound()
  return key
}

async function rotateKey (d: Deps, id: string, gracePeriodSeconds = 0): Promise<IssuedKey> {
  if (!Number.isSafeInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > maxGracePeriodSeconds) {
    throw new GatewayError('invalid_request', { param: 'grace_period_seconds', message: `grace_period_seconds must be 0 to ${maxGracePeriodSeconds}` })
  }
  const current = statusAt(await getKey(d, id), d.now())
  if (current !== 'active') {
    throw new GatewayError('invalid_request', { param: 'id', message: `A ${current} key cannot be rotated; create a new key.` })
  }
  const at = d.now()
  const generated = keyForId(id)
  const key = await d.store.rotate(id, {
    secretHash: d.hasher.hash(generated.secret),
    lastFour: generated.lastFour,
    previousExpiresAt: at + gracePeriodSeconds * 1000,
    rotatedAt: at
  })
  d.verifier.invalidate(id)
  if (key === null) throw notFound()
  return { key, secret: generated.secret }
}
