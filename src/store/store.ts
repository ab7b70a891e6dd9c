/**
 * The store port: managed state (keys now; clients, policies, budgets later) behind
 * dialect-neutral interfaces. Adapters: SQLite (default) and PostgreSQL. Timestamps are
 * integer epoch milliseconds, structured values are JSON text in the database, and every
 * adapter passes the one contract suite in store-contract.ts.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  readonly keys: KeyStore
  readonly clients: ClientStore
  readonly signingKeys: SigningKeyStore
  readonly revokedTokens: RevokedTokenStore
  readonly policies: PolicyStore
  readonly prices: PriceStore
  readonly usage: UsageStore
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
  /** Role names (see `auth.roles`), expanded to scopes when the key is used, so a role edit applies at once. */
  readonly roles: readonly string[]
  /** Model allowlist patterns; null = every model. */
  readonly models: readonly string[] | null
  /** Client IP allowlist (IPv4/IPv6 addresses and CIDR ranges); null = any address. */
  readonly allowedIps: readonly string[] | null
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

/** An OAuth 2.0 client (RFC 6749 §2) of the client-credentials grant. Its secret is never stored. */
export interface ClientRecord {
  /** The public `client_id`. */
  readonly id: string
  readonly name: string
  readonly tenant: string | null
  /** The most a token for this client may carry; a token request can only narrow it. */
  readonly scopes: readonly string[]
  /** Role names, expanded to scopes at token issue time (a token carries plain scopes). */
  readonly roles: readonly string[]
  /** Model allowlist patterns for its tokens; null = every model. */
  readonly models: readonly string[] | null
  /** Client IP allowlist for its tokens (and its token requests); null = any address. */
  readonly allowedIps: readonly string[] | null
  /** Tokens of this client issued (`iat`) before this time are refused: "revoke all tokens". */
  readonly tokensRevokedBefore: number | null
  /** Encoded slow hash (scrypt, with its parameters) of the current secret. */
  readonly secretHash: string
  /** The hash replaced by the last rotation, accepted until `previousExpiresAt`. */
  readonly previousSecretHash: string | null
  readonly previousExpiresAt: number | null
  readonly metadata: Readonly<Record<string, unknown>> | null
  readonly createdAt: number
  readonly createdBy: string | null
  /** Set while the client may not obtain tokens. */
  readonly disabledAt: number | null
  readonly rotatedAt: number | null
}

/** What a client secret rotation writes; the current hash moves to `previousSecretHash` atomically. */
export interface ClientRotation {
  readonly secretHash: string
  readonly previousExpiresAt: number
  readonly rotatedAt: number
}

/** Newest first (created_at, then id, descending), like KeyPage. */
export interface ClientPage {
  readonly items: ClientRecord[]
  readonly hasMore: boolean
}

/** OAuth client persistence. Methods resolve `null` (or false) for an unknown id instead of throwing. */
export interface ClientStore {
  /** Inserts a new client; rejects when the id exists. */
  insert (record: ClientRecord): Promise<void>
  get (id: string): Promise<ClientRecord | null>
  list (query: KeyListQuery): Promise<ClientPage>
  /** `at` disables (keeping an earlier disable time); null enables again. */
  setDisabled (id: string, at: number | null): Promise<ClientRecord | null>
  rotate (id: string, rotation: ClientRotation): Promise<ClientRecord | null>
  /** Sets `tokensRevokedBefore` to `at` (a later revocation moves it forward, never back). */
  revokeTokens (id: string, at: number): Promise<ClientRecord | null>
  /** Removes the client; false when it did not exist. */
  delete (id: string): Promise<boolean>
}

/** An access-token signing key. The private half is stored only wrapped by a master-key-derived key. */
export interface SigningKeyRecord {
  readonly kid: string
  /** JWS algorithm, e.g. `EdDSA` or `ES256`. */
  readonly alg: string
  /** The public JWK (never a private member). */
  readonly publicJwk: Readonly<Record<string, unknown>>
  /** The encrypted private key, opaque to the store. */
  readonly wrappedPrivateKey: string
  readonly createdAt: number
  /** When a newer key took over signing; null for the current signer. */
  readonly retiredAt: number | null
  /** When it leaves the JWKS: every token it signed has expired by then. Null while current. */
  readonly retireAfter: number | null
}

/** Signing key persistence for the token issuer and the JWKS document. */
export interface SigningKeyStore {
  /** Inserts a new key; rejects when the kid exists. */
  insert (record: SigningKeyRecord): Promise<void>
  /** Keys still published at `now` (retireAfter null or later), newest first. */
  listPublished (now: number): Promise<SigningKeyRecord[]>
  /** Stops a key signing at `at`; it stays published until `retireAfter`. The first retirement is kept. */
  retire (kid: string, at: number, retireAfter: number): Promise<SigningKeyRecord | null>
}


/** One revoked access token: its `jti`, kept until the token would have expired anyway. */
export interface RevokedToken {
  readonly jti: string
  /** The token's `exp`, epoch ms. */
  readonly expiresAt: number
  readonly revokedAt: number
}

/**
 * The persistent side of the `jti` deny-list (RFC 7009): what a restart, or a new instance,
 * loads so that a revoked token stays revoked.
 */
export interface RevokedTokenStore {
  /** Records a revocation; a repeat keeps the later `expiresAt` and the first `revokedAt`. */
  insert (token: RevokedToken): Promise<void>
  /** Entries whose `expiresAt` is after `now`. */
  listActive (now: number): Promise<RevokedToken[]>
  /** Deletes entries that expired at or before `now`; resolves how many went. */
  purgeExpired (now: number): Promise<number>
}

/** Who a policy applies to. `global` has no id; `model` ids may end in `*` (prefix). */
export type PolicyTargetKind = 'global' | 'tenant' | 'key' | 'client' | 'model'

export type BudgetPeriod = 'daily' | 'monthly' | 'total'

/** The limits one policy (or one `limits` config entry) sets; null sets nothing. */
export interface PolicyLimits {
  readonly requestsPerMinute: number | null
  readonly tokensPerMinute: number | null
  readonly concurrentRequests: number | null
  /** Micro-USD (1e-6 USD) per period. */
  readonly budgetMicroUsd: number | null
  readonly budgetPeriod: BudgetPeriod | null
  /** Largest `max_tokens` a request may ask for; also what is reserved when a request sends none. */
  readonly maxTokens: number | null
}

/** Limits for one target. Null fields set nothing (another policy or the config may). */
export interface PolicyRecord extends PolicyLimits {
  /** `pol_<16 base62>`. */
  readonly id: string
  readonly targetKind: PolicyTargetKind
  /** Null only for `global`. */
  readonly targetId: string | null
  /** The tenant that owns the policy (for tenant isolation in the admin API); null = operator. */
  readonly tenant: string | null
  readonly createdAt: number
  readonly createdBy: string | null
  readonly updatedAt: number
}

export interface PolicyStore {
  /** Inserts, or replaces the policy with the same id. */
  put (record: PolicyRecord): Promise<void>
  get (id: string): Promise<PolicyRecord | null>
  /** Every policy (they are few; the limits stage caches them all). */
  listAll (): Promise<PolicyRecord[]>
  delete (id: string): Promise<boolean>
}

/** Price of a model in micro-USD per million tokens (so integer arithmetic stays exact). */
export interface PriceRecord {
  /** Model name or prefix pattern ending in `*`. */
  readonly model: string
  readonly inputMicroUsdPerMillion: number
  readonly outputMicroUsdPerMillion: number
  readonly updatedAt: number
  readonly updatedBy: string | null
}

export interface PriceStore {
  put (record: PriceRecord): Promise<void>
  listAll (): Promise<PriceRecord[]>
  delete (model: string): Promise<boolean>
}

/** Usage of one (hour, key or client, tenant, model) cell; the recorder adds these in batches. */
export interface UsageDelta {
  /** Epoch ms of the start of the UTC hour. */
  readonly hour: number
  readonly keyId: string | null
  readonly clientId: string | null
  readonly tenant: string | null
  readonly model: string
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costMicroUsd: number
}

export interface UsageQuery {
  /** Inclusive, epoch ms (rounded down to the hour by the adapter). */
  readonly from: number
  /** Exclusive, epoch ms. */
  readonly to: number
  readonly keyId?: string
  readonly clientId?: string
  readonly tenant?: string
  readonly model?: string
  /** Sum over hours into one row per the chosen dimensions; `hour` keeps hourly rows. */
  readonly groupBy: ReadonlyArray<'hour' | 'key' | 'client' | 'tenant' | 'model'>
  readonly limit: number
}

/** One row of a usage query; dimensions not grouped by are null. */
export interface UsageRow {
  readonly hour: number | null
  readonly keyId: string | null
  readonly clientId: string | null
  readonly tenant: string | null
  readonly model: string | null
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costMicroUsd: number
}

export interface UsageStore {
  /** Adds every delta to its cell in one transaction (insert or increment). */
  add (batch: readonly UsageDelta[]): Promise<void>
  query (query: UsageQuery): Promise<UsageRow[]>
}
