import type { RevokedTokenStore } from '../store/store.ts'
import { createMemoryTokenDenyList } from './memory-token-deny-list.ts'
import type { TokenDenyList } from './token-deny-list.ts'

export interface PersistentTokenDenyListOptions {
  readonly store: RevokedTokenStore
  /** How often rows of expired tokens are deleted from the store. Default 10 minutes. */
  readonly purgeIntervalMs?: number
  /** A background purge failed; the next one retries. Default: ignored. Never given a token. */
  readonly onPurgeError?: (err: unknown) => void
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

/**
 * The deny list a gateway runs with: revocations are written through to the store, so they
 * survive a restart, and answered from memory, so the request path never waits on the database.
 */
export interface PersistentTokenDenyList extends TokenDenyList {
  /** Answers from memory, synchronously: for the proxy's token authentication. */
  isRevokedSync (jti: string): boolean
  /**
   * Merges what the store holds now: revocations made through another instance. Revocations
   * only ever add, so a reload never un-revokes a token.
   */
  reload (): Promise<void>
  /** Entries held in memory. */
  size (): number
  /** Stops the purge timer. Calling it twice is harmless. */
  close (): void
}

const defaultPurgeIntervalMs = 10 * 60_000

/** Loads the active revocations and starts the purge timer (unref'd: it never keeps Node alive). */
export async function openPersistentTokenDenyList (options: PersistentTokenDenyListOptions): Promise<PersistentTokenDenyList> {
  const { store } = options
  const now = options.now ?? Date.now
  const purgeIntervalMs = options.purgeIntervalMs ?? defaultPurgeIntervalMs
  if (!Number.isSafeInteger(purgeIntervalMs) || purgeIntervalMs < 1) throw new Error('purgeIntervalMs must be a positive whole number')
  const onPurgeError = options.onPurgeError ?? (() => undefined)
  const memory = createMemoryTokenDenyList({ now })

  const reload = async (): Promise<void> => {
    for (const entry of await store.listActive(now())) memory.revokeSync(entry.jti, entry.expiresAt)
  }
  await reload()

  let purging = false
  const timer = setInterval(() => {
    if (purging) return
    purging = true
    store.purgeExpired(now()).catch(onPurgeError).finally(() => { purging = false })
  }, purgeIntervalMs)
  timer.unref()

  return {
    async revoke (jti, expiresAt) {
      // Memory first: this instance refuses the token at once even if the write below fails.
      // The write is awaited so that a failure reaches the client as an error it can retry,
      // rather than a 200 for a revocation that would silently end at the next restart.
      memory.revokeSync(jti, expiresAt)
      if (expiresAt <= now()) return
      await store.insert({ jti, expiresAt, revokedAt: now() })
    },
    isRevoked: memory.isRevoked,
    isRevokedSync: memory.isRevokedSync,
    reload,
    size: memory.size,
    close () {
      clearInterval(timer)
    }
  }
}
