import type { Logger, Principal } from '../pipeline/context.ts'
import type { KeyRecord, KeyStore } from '../store/store.ts'
import type { ApiKeyHasher } from './api-key-hasher.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { parseApiKey } from './api-key-format.ts'
import { createRecordCache } from '../lib/record-cache.ts'
import { createLastUsedBatch } from './last-used-batch.ts'
import { expandRoles, type RoleTable } from './roles.ts'
import { compileIpList } from '../lib/ip-list.ts'

export interface KeyVerifierOptions {
  readonly store: KeyStore
  readonly hasher: ApiKeyHasher
  /** HMAC of `PORTCULLIS_ADMIN_KEY`, or null. */
  readonly bootstrapHash: string | null
  readonly cacheTtlMs: number
  readonly lastUsedFlushMs: number
  readonly roles: RoleTable
  readonly log: Logger
  readonly now: () => number
}

/** The request-path half of the key service: presented key → Principal, cached, usage batched. */
export interface KeyVerifier {
  /**
   * A cached key verifies synchronously (no promise on the hot path); a lookup returns a
   * promise. Failures are always a rejected promise, never a synchronous throw.
   */
  verify (presented: string): Principal | Promise<Principal>
  /** Called after every change to a key on this instance: the next request reads the store. */
  invalidate (id: string): void
  /** Drops every cached key (after a missed change broadcast). */
  clear (): void
  flush (): Promise<void>
  close (): Promise<void>
}

const negativeCacheMs = 1_000
const maxCachedKeys = 10_000

export function createKeyVerifier (options: KeyVerifierOptions): KeyVerifier {
  const { store, hasher, bootstrapHash, now } = options
  const cache = createRecordCache<KeyRecord>({
    load: (id) => store.get(id),
    ttlMs: options.cacheTtlMs,
    negativeTtlMs: Math.min(options.cacheTtlMs, negativeCacheMs),
    maxEntries: maxCachedKeys,
    now
  })
  const lastUsed = createLastUsedBatch({ store, flushMs: options.lastUsedFlushMs, log: options.log })
  async function lookup (id: string): Promise<KeyRecord | null> {
    try {
      return await cache.get(id)
    } catch (err) {
      // Fail closed with a retryable status; the cause goes to the server log only.
      throw new GatewayError('service_unavailable', { cause: err })
    }
  }
  function accept (key: KeyRecord | null, presented: string): Principal {
    if (key === null) throw new GatewayError('invalid_api_key')
    const at = now()
    checkSecret(hasher, key, presented, at)
    lastUsed.touch(key.id, at)
    return principalOf(key, options.roles)
  }

  return {
    verify (presented) {
      try {
        // The checksum is checked before any lookup: typos and garbage never reach the store.
        const parsed = parseApiKey(presented)
        if (parsed === null) {
          // The bootstrap admin key is free-form, so it is only compared when the credential is
          // not an API key: one HMAC per proxy request instead of two.
          if (bootstrapHash !== null && hasher.matches(presented, bootstrapHash)) return bootstrapPrincipal
          throw new GatewayError('invalid_api_key')
        }
        const cached = cache.peek(parsed.id)
        if (cached !== undefined) return accept(cached, presented)
        return lookup(parsed.id).then((key) => accept(key, presented))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    invalidate: (id) => { cache.invalidate(id) },
    clear: () => { cache.clear() },
    flush: () => lastUsed.flush(),
    close: () => lastUsed.close()
  }
}

/**
 * Only once the secret matched may the caller learn that the key is revoked or expired;
 * a guesser holding a real id learns nothing about its state.
 */
function checkSecret (hasher: ApiKeyHasher, key: KeyRecord, presented: string, at: number): void {
  const current = hasher.matches(presented, key.secretHash)
  const previous = !current && key.previousSecretHash !== null && hasher.matches(presented, key.previousSecretHash)
  if (!current && !previous) throw new GatewayError('invalid_api_key')
  if (key.revokedAt !== null) throw new GatewayError('revoked_credentials')
  if (key.expiresAt !== null && key.expiresAt <= at) throw new GatewayError('expired_credentials')
  if (previous && (key.previousExpiresAt === null || key.previousExpiresAt <= at)) throw new GatewayError('expired_credentials')
}

// Cached records are stable objects: one frozen Principal per record, not one per request.
const principals = new WeakMap<KeyRecord, Principal>()

function principalOf (key: KeyRecord, roles: RoleTable): Principal {
  let principal = principals.get(key)
  if (principal === undefined) {
    principal = Object.freeze({
      kind: 'api_key',
      keyId: key.id,
      clientId: null,
      subject: null,
      tokenId: null,
      name: key.name,
      tenant: key.tenant,
      scopes: expandRoles(roles, key.scopes, key.roles),
      models: key.models,
      allowedIps: key.allowedIps === null ? null : compileIpList(key.allowedIps, `key ${key.id} allowed_ips`)
    } satisfies Principal)
    principals.set(key, principal)
  }
  return principal
}

const bootstrapPrincipal: Principal = Object.freeze({
  kind: 'bootstrap_admin',
  keyId: null,
  clientId: null,
  subject: null,
  tokenId: null,
  allowedIps: null,
  name: 'bootstrap-admin',
  tenant: null,
  scopes: new Set(['admin']),
  // Admin only: the bootstrap credential cannot call models through the proxy.
  models: []
})
