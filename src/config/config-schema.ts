import { z } from 'zod'
import { createGuardsSchema } from './guards-schema.ts'

/**
 * The one schema for everything configurable. Strict objects: a typo is an error naming the
 * field. Units are part of field names (`_ms`, `_bytes`, `_seconds`). docs/config.md is
 * generated from this file (`npm run docs`), and a test fails when the two drift apart.
 */

/** Secrets are references, never literals: `{ env: NAME }` or `{ file: PATH }`. */
export const secretRefSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: z.string().min(1) })
]).describe('A secret reference: `{ env: NAME }` or `{ file: PATH }`. Literal secrets are rejected.')

export type SecretRef = z.infer<typeof secretRefSchema>

const cidr = z.string().min(1).describe('An IPv4 or IPv6 address or CIDR range')

const timeoutsSchema = z.strictObject({
  connect_ms: z.number().int().positive().default(5_000).describe('TCP + TLS connect timeout'),
  headers_ms: z.number().int().positive().default(60_000).describe('Time until the upstream sends response headers (504 `upstream_timeout` after)'),
  idle_ms: z.number().int().positive().default(120_000).describe('Longest silence while reading the response body or stream')
}).prefault({}).describe('Upstream timeouts')

export const upstreamSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _').describe('Unique name, referenced by `models[].upstream`'),
  type: z.enum(['openai', 'mock']).describe('`openai` = any OpenAI-compatible API (OpenAI, vLLM, Ollama, DeepSeek, …); `mock` = the built-in mock provider'),
  base_url: z.url({ protocol: /^https?$/ }).optional().describe('Base URL including the version path, e.g. `https://api.openai.com/v1`. Required for `openai`. TLS is always verified.'),
  api_key: secretRefSchema.optional().describe('Provider key, injected as `Authorization: Bearer`; never logged or returned'),
  ca: secretRefSchema.optional().describe('Extra PEM CA bundle for a private upstream (verification stays on)'),
  timeouts: timeoutsSchema,
  max_connections: z.number().int().positive().nullable().default(null).describe('Connection cap per upstream origin; null = unlimited so long streams never queue'),
  mock: z.strictObject({
    latency_ms: z.number().int().min(0).default(0).describe('Delay before the response head'),
    chunk_interval_ms: z.number().int().min(0).default(0).describe('Delay between streamed chunks'),
    failure_rate: z.number().min(0).max(1).default(0).describe('Fraction of requests answered with a 500')
  }).prefault({}).describe('Only for `type: mock`')
}).superRefine((u, ctx) => {
  if (u.type === 'openai' && u.base_url === undefined) {
    ctx.addIssue({ code: 'custom', path: ['base_url'], message: 'required for type "openai"' })
  }
})

export const modelRouteSchema = z.strictObject({
  name: z.string().min(1).max(256).describe('Model name callers send. A trailing `*` matches a prefix (e.g. `qwen2.5-*`)'),
  upstream: z.string().describe('Name of an entry in `upstreams`'),
  upstream_model: z.string().min(1).optional().describe('Model name sent upstream; default: the caller\'s model name')
})

const scopeList = z.array(z.string().min(1)).describe('Scope names (see docs/identity.md)')

const bruteForceSchema = z.strictObject({
  max_failures: z.number().int().min(1).default(10).describe('Failed authentications from one client IP (or for one client id) within the window before it is refused'),
  window_seconds: z.number().int().min(1).max(86_400).default(60).describe('Sliding window over which failures are counted'),
  cooldown_seconds: z.number().int().min(1).max(86_400).default(300).describe('How long a source past the threshold gets 429 `too_many_failed_attempts`, valid credentials or not')
}).prefault({}).describe('Brute-force protection for API keys, access tokens and OAuth client secrets')

export const trustedIssuerSchema = z.strictObject({
  issuer: z.string().min(1).describe('Exact `iss` value of the identity provider, e.g. `https://idp.example.com/realms/acme`'),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('Required. `aud` values accepted; the token must name one of them'),
  jwks_uri: z.string().min(1).optional().describe('JWKS URL (https; http only on loopback). Unset = OIDC discovery from `<issuer>/.well-known/openid-configuration`'),
  algorithms: z.array(z.string()).min(1).default(['RS256', 'ES256', 'EdDSA']).describe('Accepted JWS algorithms; asymmetric only (HMAC and `none` are refused)'),
  typ: z.array(z.string().min(1)).min(1).default(['at+jwt']).describe('Accepted `typ` header values (Keycloak and Entra ID send `JWT`)'),
  clock_skew_seconds: z.number().int().min(0).max(60).optional().describe('Leeway for `exp`/`nbf`/`iat`; default `auth.clock_skew_seconds`'),
  max_token_bytes: z.number().int().min(256).max(65_536).optional().describe('Longest accepted token; default `auth.max_token_bytes`'),
  claims: z.strictObject({
    subject: z.string().min(1).default('sub').describe('Claim naming the caller'),
    client_id: z.string().min(1).default('client_id').describe('Claim naming the client (Keycloak and Entra: `azp`)'),
    tenant: z.string().min(1).nullable().default(null).describe('Claim giving the tenant; null = tokens of this issuer have no tenant unless `tenant` is set'),
    scopes: z.string().min(1).default('scope').describe('Claim with the scopes: space-separated string or array; dotted paths reach nested claims'),
    roles: z.string().min(1).nullable().default(null).describe('Claim with role names, expanded through `auth.roles` (e.g. `realm_access.roles`)')
  }).prefault({}).describe('Which claim carries what'),
  tenant: z.string().min(1).max(128).nullable().default(null).describe('Fixed tenant for every token of this issuer (instead of a claim)'),
  scopes: scopeList.nullable().default(null).describe('Upper bound on the scopes a token of this issuer gets; null = proxy scopes only (never admin unless listed)'),
  models: z.array(z.string().min(1)).nullable().default(null).describe('Model allowlist for tokens of this issuer; null = every model'),
  allowed_ips: z.array(cidr).nullable().default(null).describe('Client IP allowlist for tokens of this issuer; null = any address'),
  ca: secretRefSchema.optional().describe('Extra PEM CA bundle for a private IdP (verification stays on)'),
  jwks_refresh_interval_seconds: z.number().int().min(1).default(60).describe('Least time between two JWKS fetches; an unknown `kid` triggers at most one fetch per interval'),
  jwks_max_age_seconds: z.number().int().min(1).default(600).describe('Age after which the keys are refreshed in the background'),
  jwks_timeout_ms: z.number().int().positive().default(5_000).describe('Time limit of one JWKS or discovery fetch'),
  jwks_max_bytes: z.number().int().min(1_024).max(1_048_576).default(65_536).describe('Largest JWKS or discovery document accepted')
})

const limitValues = {
  requests_per_minute: z.number().int().positive().nullable().default(null).describe('Requests per minute (GCRA: a smooth sliding window, no doubling at window edges)'),
  tokens_per_minute: z.number().int().positive().nullable().default(null).describe('Tokens per minute (reserved before forwarding, settled to real usage)'),
  concurrent_requests: z.number().int().positive().nullable().default(null).describe('Requests in flight at once')
}

export const modelLimitSchema = z.strictObject({
  model: z.string().min(1).max(256).describe('Model name, or a prefix ending in `*`'),
  ...limitValues
})

export const priceSchema = z.strictObject({
  model: z.string().min(1).max(256).describe('Model name, or a prefix ending in `*`'),
  input_per_million_usd: z.number().min(0).max(10_000).describe('USD per million input tokens'),
  output_per_million_usd: z.number().min(0).max(10_000).describe('USD per million output tokens')
})

/** The request audit log (docs/audit.md): durability, failure policy, rotation, geo, metadata. */
const auditSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Keep the audit log. `false` writes NO evidence at all (no request, admin or OAuth records; `GET /admin/v1/audit` answers 404) and logs a warning at every start: meant for benchmarks and for deployments that keep their evidence elsewhere'),
  fsync: z.enum(['interval', 'batch']).default('interval').describe('`interval`: fsync every `fsync_interval_ms` (a power loss loses at most that much); `batch`: fsync after every write batch (slower, loses only the in-memory queue)'),
  fsync_interval_ms: z.number().int().min(10).max(60_000).default(1_000).describe('How often the segment is fsynced with `fsync: interval`'),
  write_delay_ms: z.number().int().min(0).max(1_000).default(10).describe('With `fsync: interval`, how long new records wait before they are written, so a busy gateway makes one write every few ms rather than one per event-loop turn (a process crash loses at most this much more; a power loss still the fsync interval); 0 writes at once'),
  queue_size: z.number().int().min(1).max(1_000_000).default(10_000).describe('Records waiting to be written; when full (the disk is too slow or failing) requests are refused or records lost, per `on_failure`'),
  on_failure: z.enum(['fail_closed', 'fail_open']).default('fail_closed').describe('The audit log cannot be written: refuse proxy requests, admin actions and OAuth requests with 503 `service_unavailable` (default), or serve them and log an error (their records wait in memory and are lost if the queue fills or the process stops)'),
  max_segment_mb: z.number().int().min(1).max(4_096).default(64).describe('A new segment file starts when the current one would exceed this size'),
  max_segment_age_hours: z.number().positive().max(8_760).optional().describe('Also start a new segment when the current one is this old; unset = by size only'),
  checkpoint_every_records: z.number().int().min(1).max(10_000_000).default(1_000).describe('Sign a checkpoint once this many records became durable since the last one'),
  checkpoint_every_seconds: z.number().int().min(1).max(86_400).default(60).describe('... or this long after the last checkpoint, if any record was written since'),
  geoip_database: z.string().min(1).optional().describe('Path of a MaxMind-format `.mmdb` (GeoLite2/GeoIP2 City, Country or ASN); records then carry `geo`. Unset = `geo` is null'),
  metadata_max_bytes: z.number().int().min(2).max(16_384).default(1_024).describe('Largest accepted `x-portcullis-metadata` request header (a JSON object, recorded in `metadata`); larger → 400 `invalid_request`'),
  retention_days: z.number().int().min(1).max(36_500).optional().describe('Delete whole segments whose newest record is older than this many days (checked at start and hourly; never the current segment), recording a `type: retention` record in the chain; unset = keep everything')
}).prefault({}).describe('The tamper-evident request audit log in `DATA_DIR/audit` (docs/audit.md)')

export const configSchema = z.strictObject({
  server: z.strictObject({
    host: z.string().default('127.0.0.1').describe('Bind address (env `PORTCULLIS_HOST`)'),
    port: z.number().int().min(0).max(65_535).default(8080).describe('Port (env `PORTCULLIS_PORT`); 0 picks a free one'),
    trusted_proxies: z.array(cidr).default([]).describe('Proxies whose `X-Forwarded-For` is believed (env `PORTCULLIS_TRUSTED_PROXIES`, comma-separated)'),
    max_body_bytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024).describe('Largest accepted request body; larger → 413 `request_too_large`'),
    shutdown_timeout_ms: z.number().int().positive().default(30_000).describe('On SIGTERM, how long in-flight requests and streams may take to finish'),
    keep_alive_timeout_ms: z.number().int().positive().default(72_000).describe('Idle keep-alive timeout for client connections')
  }).prefault({}).describe('The listener'),
  data_dir: z.string().min(1).default('./data').describe('Directory for SQLite, the master key and audit files; created 0700 (env `PORTCULLIS_DATA_DIR`)'),
  master_key: secretRefSchema.optional().describe('Base64 of 32 bytes; every other key is derived from it. Default: env `PORTCULLIS_MASTER_KEY`, else `DATA_DIR/master.key` generated on first start'),
  admin_key: secretRefSchema.optional().describe('Bootstrap admin credential with full admin scopes (env `PORTCULLIS_ADMIN_KEY`)'),
  database_url: secretRefSchema.optional().describe('Unset = SQLite in the data dir (env `PORTCULLIS_DATABASE_URL`)'),
  database_schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier').default('portcullis').describe('PostgreSQL schema holding the tables, created when missing (env `PORTCULLIS_DATABASE_SCHEMA`)'),
  redis_url: secretRefSchema.optional().describe('Unset = in-process counters (env `PORTCULLIS_REDIS_URL`); `redis://` or `rediss://` (TLS, verified)'),
  redis_key_prefix: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'letters, digits, _ : . -').default('portcullis:').describe('Prefix of every Redis key and channel, so several deployments can share a Redis (env `PORTCULLIS_REDIS_PREFIX`)'),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('env `PORTCULLIS_LOG_LEVEL`')
  }).prefault({}).describe('Structured JSON logs (pino); secrets are redacted'),
  keys: z.strictObject({
    cache_ttl_ms: z.number().int().min(0).default(30_000).describe('How long a key lookup is cached (revocation on this instance is immediate regardless)'),
    max_ttl_seconds: z.number().int().positive().nullable().default(null).describe('Longest lifetime a new key may have; null = unlimited'),
    last_used_flush_ms: z.number().int().positive().default(5_000).describe('How often `last_used_at` updates are written, off the request path')
  }).prefault({}).describe('Virtual API keys'),
  auth: z.strictObject({
    roles: z.record(z.string(), scopeList).default({}).describe('Named bundles of scopes, merged over the built-in `user`, `developer`, `auditor`, `tenant-admin`, `admin`'),
    clock_skew_seconds: z.number().int().min(0).max(60).default(60).describe('Leeway for token `exp`, `nbf` and `iat` (at most 60 s)'),
    max_token_bytes: z.number().int().min(256).max(65_536).default(8_192).describe('Longest accepted bearer token; longer → 401 `invalid_token` before any parsing'),
    brute_force: bruteForceSchema
  }).prefault({}).describe('Credentials: roles, token verification limits, brute-force protection'),
  oauth: z.strictObject({
    enabled: z.boolean().default(true).describe('Serve `/oauth/*` and `/.well-known/*` and accept this gateway\'s access tokens'),
    issuer: z.string().min(1).optional().describe('Public origin of the gateway, the `iss` of its tokens (https; http only on loopback; env `PORTCULLIS_OAUTH_ISSUER`). Default: the listener URL, allowed on loopback only'),
    audience: z.string().min(1).optional().describe('The `aud` of issued tokens; default the issuer'),
    token_lifetime_seconds: z.number().int().min(60).max(86_400).default(3_600).describe('Lifetime of issued access tokens'),
    signing_algorithm: z.enum(['EdDSA', 'ES256']).default('EdDSA').describe('Algorithm of new signing keys'),
    client_secret_grace_max_seconds: z.number().int().min(0).max(2_592_000).default(604_800).describe('Longest grace period a client secret rotation may grant the old secret')
  }).prefault({}).describe('The OAuth 2.0 client-credentials issuer'),
  limits: z.strictObject({
    global: z.strictObject(limitValues).prefault({}).describe('Limits over all traffic of this gateway (all instances, with Redis)'),
    models: z.array(modelLimitSchema).default([]).describe('Limits per model (or model prefix), over all callers'),
    per_credential: z.strictObject(limitValues).prefault({}).describe('Default limits for every key and OAuth client separately, unless a policy targets it'),
    tokens_counted: z.enum(['total', 'input', 'output']).default('total').describe('Which tokens count against `tokens_per_minute`'),
    default_max_tokens: z.number().int().positive().max(1_000_000).default(4_096).describe('Output tokens reserved when a request sends no `max_tokens` and no policy caps it'),
    concurrency_lease_seconds: z.number().int().min(10).max(86_400).default(900).describe('A concurrency slot held longer than this (a crashed instance) is freed'),
    usage_flush_ms: z.number().int().min(100).max(60_000).default(5_000).describe('How often aggregated usage is written to the store, off the request path'),
    token_count_cache_entries: z.number().int().min(0).max(1_000_000).default(4_096).describe('Recent prompt texts (up to 8,192 characters each) whose token counts are remembered in memory, so a repeated system prompt or conversation is not tokenised again; 0 turns it off'),
    on_redis_failure: z.enum(['fail_closed', 'local_limits']).default('fail_closed').describe('Redis unreachable: refuse with 503 (default), or apply per-instance limits and log loudly')
  }).prefault({}).describe('Rate limits, concurrency and reservation defaults (policies in the admin API add more)'),
  audit: auditSchema,
  guards: createGuardsSchema(secretRefSchema),
  metrics: z.strictObject({
    enabled: z.boolean().default(true).describe('Record request metrics and serve `GET /metrics` (Prometheus text format) to credentials with the `metrics:read` scope'),
    listen: z.strictObject({
      host: z.string().min(1).default('127.0.0.1').describe('Bind address of the metrics listener; keep it on loopback or a private network'),
      port: z.number().int().min(0).max(65_535).describe('Port of the metrics listener (0 picks a free one); must differ from `server.port`')
    }).optional().describe('A separate listener serving `GET /metrics` WITHOUT authentication, for a Prometheus that holds no gateway credential: whoever reaches it reads the metrics. Unset = only the authenticated `/metrics` on the main port'),
    process_metrics: z.boolean().default(true).describe('Also expose Node.js process metrics (CPU, memory, event-loop lag, GC) under prom-client\'s standard names')
  }).prefault({}).describe('Prometheus metrics (docs/metrics.md)'),
  prices: z.array(priceSchema).default([]).describe('Price overrides per model (USD per million tokens), over the built-in table'),
  trusted_issuers: z.array(trustedIssuerSchema).default([]).describe('External identity providers whose access tokens are accepted'),
  upstreams: z.array(upstreamSchema).default([]).describe('Providers. Empty = the built-in mock provider serves `mock-*` models'),
  models: z.array(modelRouteSchema).default([]).describe('Caller model name → upstream. Empty with the mock = `mock-*` routed to it')
}).superRefine((c, ctx) => {
  const names = new Set<string>()
  c.upstreams.forEach((u, i) => {
    if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `duplicate upstream "${u.name}"` })
    names.add(u.name)
  })
  const issuers = new Set<string>()
  c.trusted_issuers.forEach((t, i) => {
    if (issuers.has(t.issuer)) ctx.addIssue({ code: 'custom', path: ['trusted_issuers', i, 'issuer'], message: `duplicate trusted issuer "${t.issuer}"` })
    issuers.add(t.issuer)
  })
  c.models.forEach((m, i) => {
    if (!names.has(m.upstream)) ctx.addIssue({ code: 'custom', path: ['models', i, 'upstream'], message: `no upstream named "${m.upstream}"` })
    const star = m.name.indexOf('*')
    if (star !== -1 && star !== m.name.length - 1) ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: 'only a trailing * is supported' })
  })
})

export type Config = z.infer<typeof configSchema>
export type TrustedIssuerConfig = z.infer<typeof trustedIssuerSchema>
export type UpstreamConfig = z.infer<typeof upstreamSchema>
export type ModelRouteConfig = z.infer<typeof modelRouteSchema>
export type AuditConfig = z.infer<typeof auditSchema>
