/**
 * The store port: managed state (keys now; clients, policies, budgets later) behind
 * dialect-neutral interfaces. Adapters: SQLite (default) and PostgreSQL. Timestamps are
 * integer epoch milliseconds, structured values are JSON text in the database, and every
 * adapter passes the one contract suite in store-contract.ts.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  readonly keys: KeyStore
  /** Resolves when the database answers a trivial query; rejects otherwise (readiness). */
  ping (): Promise<void>
  /** Closes the connection(s). Calling it twice is harmless. */
  close (): Promise<void>
}

/** One API key as stored. The secret itself is never stored, only its peppered HMAC. */
export interface KeyRecord {
  /** Public id, `key_<16 base62>`. */
  readonly id: string
  readonly name: string
  readonly tenant: string | null
  readonly scopes: readonly string[]
  /** Model allowlist patterns; null = every model. */
  readonly models: readonly string[] | null
  /** Hex HMAC-SHA256 of the current secret. */
  readonly secretHash: string
  readonly lastFour: string
  /** Hex HMAC of the secret replaced by the last rotation, accepted until `previousExpiresAt`. */
  readonly previousSecretHash: string | null
  readonly previousExpiresAt: number | null
  readonly metadata: Readonly<Record<string, unknown>> | null
  readonly createdAt: number
  /** Public id of the key (or `bootstrap_admin`, `system`) that created it. */
  readonly createdBy: string | null
  readonly lastUsedAt: number | null
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly rotatedAt: number | null
}

export interface KeyListQuery {
  readonly tenant?: string | null
  /** Page size, at least 1. */
  readonly limit: number
  /** Id of the last key of the previous page. An unknown id yields an empty page. */
  readonly after?: string | null
}

export interface KeyPage {
  /** Newest first (created_at, then id, descending). */
  readonly items: KeyRecord[]
  readonly hasMore: boolean
}

/** What a rotation writes; the current hash moves to `previousSecretHash` atomically. */
export interface KeyRotation {
  readonly secretHash: string
  readonly lastFour: string
  /** When the replaced secret stops working (epoch ms). */
  readonly previousExpiresAt: number
  readonly rotatedAt: number
}

/** One `last_used_at` observation; the adapter keeps the later of stored and given. */
export interface KeyUsage {
  readonly id: string
  readonly at: number
}

/** API key persistence. Methods resolve `null` for an unknown id instead of throwing. */
export interface KeyStore {
  /** Inserts a new key; rejects when the id exists. */
  insert (record: KeyRecord): Promise<void>
  get (id: string): Promise<KeyRecord | null>
  list (query: KeyListQuery): Promise<KeyPage>
  /** Sets `revokedAt` unless already revoked (the first revocation time is kept). */
  revoke (id: string, at: number): Promise<KeyRecord | null>
  rotate (id: string, rotation: KeyRotation): Promise<KeyRecord | null>
  /** Applies a batch of usage times in one transaction; unknown ids are ignored. */
  touchLastUsed (batch: readonly KeyUsage[]): Promise<void>
  /** Keys carrying `scope` that are neither revoked nor expired at `now`. */
  countActiveWithScope (scope: string, now: number): Promise<number>
}
