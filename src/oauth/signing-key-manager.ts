import type { JWK } from 'jose'
import type { SigningKeyRecord, SigningKeyStore } from '../store/store.ts'
import { generateSigningKey, loadSigningKeyRing, publicMembers, signingAlgorithms } from './signing-keys.ts'
import type { SigningAlgorithm, SigningKeyRing, StoredSigningKey } from './signing-keys.ts'

export interface SigningKeyManagerOptions {
  readonly store: SigningKeyStore
  readonly masterKey: Buffer
  /** Algorithm of the first key and the default of `rotate()` (config `oauth.signing_algorithm`). */
  readonly algorithm: SigningAlgorithm
  /**
   * The longest lifetime of a token signed from the ring (config `oauth.token_lifetime_seconds`):
   * a rotated-out key stays published and verifying this long after its rotation.
   */
  readonly maxTokenLifetimeSeconds: number
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

/** One published key, for the admin API: the public JWK only, times in epoch ms. */
export interface SigningKeySummary {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly createdAt: number
  /** When a newer key took over signing; null for the current key. */
  readonly retiredAt: number | null
  /** When it leaves the JWKS and stops verifying; null for the current key. */
  readonly retireAfter: number | null
  readonly status: 'current' | 'retiring'
  readonly publicJwk: JWK
}

/** The signing keys of this gateway, kept in step with the store. */
export interface SigningKeyManager {
  /**
   * Always the latest loaded ring: give it to the token endpoint and the verifiers once, and they
   * follow every rotation and reload. Its `rotate()` is the manager's (persisted).
   */
  readonly ring: SigningKeyRing
  /** Makes a new current key; the old one keeps verifying until its tokens have expired. */
  rotate (algorithm?: SigningAlgorithm): Promise<SigningKeySummary>
  /**
   * Re-reads the store, to pick up a rotation made by another instance. It may write: an empty
   * store gets a first key, and a race that left two current keys is settled (see `settle`).
   */
  reload (): Promise<void>
  /** The published keys as the store has them now (it reloads first), current first. */
  list (): Promise<SigningKeySummary[]>
}

/**
 * Opens the key ring from the store; a first start (no published key) generates and persists the
 * first key. Fails when the current key does not open with `masterKey`, rather than replacing it:
 * a changed master key must be noticed, not papered over.
 */
export async function openSigningKeyManager (options: SigningKeyManagerOptions): Promise<SigningKeyManager> {
  const { masterKey, algorithm, maxTokenLifetimeSeconds } = options
  const now = options.now ?? Date.now
  checkAlgorithm(algorithm)
  if (!Number.isSafeInteger(maxTokenLifetimeSeconds) || maxTokenLifetimeSeconds < 1) {
    throw new Error('maxTokenLifetimeSeconds must be a positive whole number')
  }
  const context: StoreContext = { store: options.store, masterKey, algorithm, lifetimeMs: maxTokenLifetimeSeconds * 1000 }
  let keys: StoredSigningKey[] = []
  let inner: SigningKeyRing
  // Rotations and reloads of this process run one at a time; other processes are handled by settle().
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task)
    queue = run.catch(() => undefined)
    return run
  }
  const load = async (at: number): Promise<void> => {
    const settled = await settle(context, at)
    inner = await loadSigningKeyRing({ masterKey, keys: settled, maxTokenLifetimeSeconds })
    keys = settled
  }
  const summaries = (at: number): SigningKeySummary[] => keys.filter((k) => k.retireAfter === null || at < k.retireAfter).map(summary)
  const rotateAt = async (alg: SigningAlgorithm, at: number): Promise<SigningKeySummary> => {
    checkAlgorithm(alg)
    await rotateInStore(context, alg, at)
    await load(at)
    return summaries(at)[0] as SigningKeySummary
  }

  await load(now())
  const ring: SigningKeyRing = {
    maxTokenLifetimeSeconds,
    current: () => inner.current(),
    publicKey: (kid, at = now()) => inner.publicKey(kid, at),
    jwks: (at = now()) => inner.jwks(at),
    rotate: async (alg = algorithm, at = now()) => { await serially(async () => await rotateAt(alg, at)) },
    toStored: (at = now()) => inner.toStored(at)
  }
  return {
    ring,
    rotate: async (alg = algorithm) => await serially(async () => await rotateAt(alg, now())),
    reload: async () => { await serially(async () => { await load(now()) }) },
    list: async () => await serially(async () => {
      const at = now()
      await load(at)
      return summaries(at)
    })
  }
}

interface StoreContext {
  readonly store: SigningKeyStore
  readonly masterKey: Buffer
  /** For a first key. */
  readonly algorithm: SigningAlgorithm
  /** How long a rotated-out key stays published. */
  readonly lifetimeMs: number
}

function checkAlgorithm (alg: SigningAlgorithm): void {
  if (!signingAlgorithms.includes(alg)) throw new Error(`signing algorithm must be one of ${signingAlgorithms.join(', ')}`)
}

/**
 * Reads the published keys until exactly one is current. None (an empty store, or a rotation
 * that stopped between its two writes) gets a fresh key. Several (two first starts or two
 * rotations racing, here or on other instances) keep the newest by (createdAt, kid) and retire
 * the others like a rotation would; every instance sorts the same way, so all keep the same one.
 */
async function settle (context: StoreContext, at: number): Promise<StoredSigningKey[]> {
  const { store, masterKey, algorithm, lifetimeMs } = context
  for (let attempt = 0; attempt < 4; attempt++) {
    const published = (await store.listPublished(at)).map(fromRecord).sort(newestFirst)
    const current = published.filter((k) => k.rotatedAt === null)
    if (current.length === 1) return published
    if (current.length === 0) {
      await store.insert(toRecord(await generateSigningKey(masterKey, algorithm, at)))
      continue
    }
    for (const extra of current.slice(1)) await store.retire(extra.kid, at, at + lifetimeMs)
  }
  throw new Error('signing keys: the store did not settle on one current key')
}

/** A new current key in the store; the one it replaces stays published for `lifetimeMs`. */
async function rotateInStore (context: StoreContext, alg: SigningAlgorithm, at: number): Promise<void> {
  const { store, masterKey, lifetimeMs } = context
  const previous = (await settle(context, at)).find((k) => k.rotatedAt === null)
  const next = await generateSigningKey(masterKey, alg, at)
  // Insert before retiring: a reader between the two writes sees two current keys (which
  // settle resolves) rather than none, and a crash in between leaves a usable store.
  await store.insert(toRecord(next))
  if (previous !== undefined) await store.retire(previous.kid, at, at + lifetimeMs)
}

// Current first, then by rotation time, then newest created; kid breaks ties so every instance agrees.
function newestFirst (a: StoredSigningKey, b: StoredSigningKey): number {
  const rotated = (b.rotatedAt ?? Infinity) - (a.rotatedAt ?? Infinity)
  if (rotated !== 0 && !Number.isNaN(rotated)) return rotated
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt
  return a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0
}

// The store says retiredAt where the OAuth library says rotatedAt: the same moment.
function fromRecord (record: SigningKeyRecord): StoredSigningKey {
  return {
    kid: record.kid,
    // Checked against signingAlgorithms when the ring loads.
    alg: record.alg as SigningAlgorithm,
    publicJwk: record.publicJwk as JWK,
    wrappedPrivateKey: record.wrappedPrivateKey,
    createdAt: record.createdAt,
    rotatedAt: record.retiredAt,
    retireAfter: record.retireAfter
  }
}

function toRecord (key: StoredSigningKey): SigningKeyRecord {
  return {
    kid: key.kid,
    alg: key.alg,
    publicJwk: key.publicJwk as Readonly<Record<string, unknown>>,
    wrappedPrivateKey: key.wrappedPrivateKey,
    createdAt: key.createdAt,
    retiredAt: key.rotatedAt,
    retireAfter: key.retireAfter
  }
}

// Fields copied one by one, and the JWK reduced to public members: nothing private can slip through.
function summary (key: StoredSigningKey): SigningKeySummary {
  return {
    kid: key.kid,
    alg: key.alg,
    createdAt: key.createdAt,
    retiredAt: key.rotatedAt,
    retireAfter: key.retireAfter,
    status: key.rotatedAt === null ? 'current' : 'retiring',
    publicJwk: publicMembers(key.publicJwk)
  }
}
