import { createRecordCache, type RecordCache } from '../lib/record-cache.ts'
import type { ClientPage, ClientRecord, ClientStore, KeyListQuery } from '../store/store.ts'
import { expandRoles, type RoleTable } from '../auth/roles.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { defaultScryptParams, generateClientSecret, hashClientSecret, type ScryptParams } from './client-secret.ts'
import type { FindClient, OAuthClient } from './client-authentication.ts'
import { compileIpList } from '../lib/ip-list.ts'
import { generateClientId, isClientId, validateNewClient, type NewClientInput } from './client-rules.ts'

export interface ClientServiceOptions {
  readonly store: ClientStore
  /** The compiled `auth.roles` table: roles a client may name, expanded when it gets a token. */
  readonly roles: RoleTable
  /** Cost of new secret hashes; default `defaultScryptParams`. */
  readonly scryptParams?: ScryptParams
  /** Longest rotation grace period accepted, in seconds. */
  readonly maxGraceSeconds: number
  /** How long `find` serves a client from memory; default 30 s, 0 disables the cache. */
  readonly cacheTtlMs?: number
  /** Clock in epoch ms; injectable for tests. */
  readonly now?: () => number
}

export interface IssuedClient {
  readonly client: ClientRecord
  /** The client secret. Returned once, never stored. */
  readonly secret: string
}

export type ClientStatus = 'active' | 'disabled'

/** Like API keys: newest first, optionally of one tenant, `after` the last id of the previous page. */
export type ClientListQuery = KeyListQuery

/**
 * OAuth client lifecycle for the admin API, and the cached lookup the token endpoint uses.
 * Every change made here invalidates this instance's cache at once; other instances see it
 * when their entry expires (`cacheTtlMs`).
 */
export interface ClientService {
  create (input: NewClientInput): Promise<IssuedClient>
  list (query: ClientListQuery): Promise<ClientPage>
  /** Throws `not_found` for an unknown (or malformed) id; reads the store, not the cache. */
  get (id: string): Promise<ClientRecord>
  disable (id: string): Promise<ClientRecord>
  enable (id: string): Promise<ClientRecord>
  /** New secret for the same id; the old one keeps working for `gracePeriodSeconds`. */
  rotate (id: string, gracePeriodSeconds?: number): Promise<IssuedClient>
  /** Refuses every token of this client issued until now (sets `tokensRevokedBefore`). */
  revokeTokens (id: string): Promise<ClientRecord>
  delete (id: string): Promise<void>
  /** The hot-path lookup: cached, single-flight per id; null for an unknown or malformed id. */
  find (id: string): Promise<ClientRecord | null>
  /** Forgets a cached client: another instance changed it. `null` forgets every client. */
  invalidate (id: string | null): void
  /** The cached answer without loading (undefined = not cached), for a synchronous hot path. */
  peek (id: string): ClientRecord | null | undefined
  /** `find` mapped by `toOAuthClient`, for `createClientAuthenticator({ findClient })`. */
  readonly findClient: FindClient
  /** What the token endpoint needs: effective scopes (scopes plus those of the roles), disabled flag, compiled IP list. */
  toOAuthClient (record: ClientRecord): OAuthClient
  /** Scopes plus the scopes of the roles, as a token for the client could carry them. */
  effectiveScopes (scopes: readonly string[], roles: readonly string[]): Set<string>
  status (record: ClientRecord): ClientStatus
  now (): number
}

const negativeCacheMs = 1_000
const maxCachedClients = 10_000

interface Deps {
  readonly store: ClientStore
  readonly roles: RoleTable
  readonly scryptParams: ScryptParams
  readonly maxGraceSeconds: number
  readonly cache: RecordCache<ClientRecord>
  /** Cached records are stable objects: one mapping per record, not one per token request. */
  readonly oauthClients: WeakMap<ClientRecord, OAuthClient>
  readonly now: () => number
}

export function createClientService (options: ClientServiceOptions): ClientService {
  const { store, roles, maxGraceSeconds } = options
  if (!Number.isSafeInteger(maxGraceSeconds) || maxGraceSeconds < 0) throw new Error('createClientService: maxGraceSeconds must be a whole number of seconds')
  const now = options.now ?? Date.now
  const cacheTtlMs = options.cacheTtlMs ?? 30_000
  const d: Deps = {
    store, roles, maxGraceSeconds, now,
    scryptParams: options.scryptParams ?? defaultScryptParams,
    cache: createRecordCache<ClientRecord>({ load: (id) => store.get(id), ttlMs: cacheTtlMs, negativeTtlMs: Math.min(cacheTtlMs, negativeCacheMs), maxEntries: maxCachedClients, now }),
    oauthClients: new WeakMap()
  }
  return {
    create: (input) => createClient(d, input),
    list: (query) => listClients(d, query),
    get: (id) => getClient(d, id),
    disable: (id) => changeClient(d, id, () => store.setDisabled(id, now())),
    enable: (id) => changeClient(d, id, () => store.setDisabled(id, null)),
    revokeTokens: (id) => changeClient(d, id, () => store.revokeTokens(id, now())),
    rotate: (id, grace) => rotateClient(d, id, grace),
    async delete (id) {
      if (!isClientId(id) || !await change(d, id, () => store.delete(id))) throw notFound()
    },
    find: (id) => findClient(d, id),
    peek: (id) => d.cache.peek(id),
    invalidate: (id) => { if (id === null) d.cache.clear(); else d.cache.invalidate(id) },
    findClient: async (id) => {
      const record = await findClient(d, id)
      return record === null ? null : toOAuthClient(d, record)
    },
    toOAuthClient: (record) => toOAuthClient(d, record),
    effectiveScopes: (scopes, roleNames) => expandRoles(roles, scopes, roleNames),
    status: (record) => record.disabledAt === null ? 'active' : 'disabled',
    now
  }
}

/** Runs a write and drops the cached entry, whatever the outcome: the next `find` reads the store. */
async function change<T> (d: Deps, id: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } finally {
    d.cache.invalidate(id)
  }
}

async function getClient (d: Deps, id: string): Promise<ClientRecord> {
  const record = isClientId(id) ? await d.store.get(id) : null
  if (record === null) throw notFound()
  return record
}

/** A write to one client (a malformed id never reaches the store); `not_found` when there is none. */
async function changeClient (d: Deps, id: string, write: () => Promise<ClientRecord | null>): Promise<ClientRecord> {
  if (!isClientId(id)) throw notFound()
  const record = await change(d, id, write)
  if (record === null) throw notFound()
  return record
}

async function createClient (d: Deps, input: NewClientInput): Promise<IssuedClient> {
  const valid = validateNewClient(input, d.roles)
  const secret = generateClientSecret()
  const client: ClientRecord = {
    ...valid,
    id: generateClientId(),
    tokensRevokedBefore: null,
    secretHash: await hashClientSecret(secret, d.scryptParams),
    previousSecretHash: null,
    previousExpiresAt: null,
    createdAt: d.now(),
    createdBy: input.createdBy ?? null,
    disabledAt: null,
    rotatedAt: null
  }
  await change(d, client.id, () => d.store.insert(client))
  return { client, secret }
}

async function listClients (d: Deps, query: ClientListQuery): Promise<ClientPage> {
  const after = query.after ?? null
  if (after !== null && (!isClientId(after) || await d.store.get(after) === null)) {
    throw new GatewayError('invalid_request', { param: 'after', message: 'after must be the id of a client from the previous page' })
  }
  return d.store.list({ tenant: query.tenant ?? null, limit: query.limit, after })
}

async function rotateClient (d: Deps, id: string, gracePeriodSeconds = 0): Promise<IssuedClient> {
  if (!Number.isSafeInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > d.maxGraceSeconds) {
    throw new GatewayError('invalid_request', { param: 'grace_period_seconds', message: `grace_period_seconds must be 0 to ${d.maxGraceSeconds}` })
  }
  if (!isClientId(id)) throw notFound()
  const secret = generateClientSecret()
  const secretHash = await hashClientSecret(secret, d.scryptParams)
  // The clock is read after the slow hash, so the grace period starts when the rotation is stored.
  const at = d.now()
  const client = await changeClient(d, id, () => d.store.rotate(id, { secretHash, previousExpiresAt: at + gracePeriodSeconds * 1000, rotatedAt: at }))
  return { client, secret }
}

async function findClient (d: Deps, id: string): Promise<ClientRecord | null> {
  // Malformed ids never reach the store, nor take a cache slot.
  if (!isClientId(id)) return null
  try {
    return await d.cache.get(id)
  } catch (err) {
    // Fail closed with a retryable status; the cause goes to the server log only.
    throw new GatewayError('service_unavailable', { cause: err })
  }
}

function toOAuthClient (d: Deps, record: ClientRecord): OAuthClient {
  let client = d.oauthClients.get(record)
  if (client === undefined) {
    client = Object.freeze({
      id: record.id,
      secretHash: record.secretHash,
      previousSecretHash: record.previousSecretHash,
      previousExpiresAt: record.previousExpiresAt,
      scopes: Object.freeze([...expandRoles(d.roles, record.scopes, record.roles)]),
      tenant: record.tenant,
      disabled: record.disabledAt !== null,
      allowedIps: record.allowedIps === null ? null : compileIpList(record.allowedIps, `client ${record.id} allowed_ips`)
    })
    d.oauthClients.set(record, client)
  }
  return client
}

function notFound (): GatewayError {
  return new GatewayError('not_found', { message: 'No OAuth client with this id.', param: 'id' })
}
