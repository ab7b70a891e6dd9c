import { z } from 'zod'

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
  redis_url: secretRefSchema.optional().describe('Unset = in-process counters (env `PORTCULLIS_REDIS_URL`)'),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('env `PORTCULLIS_LOG_LEVEL`')
  }).prefault({}).describe('Structured JSON logs (pino); secrets are redacted'),
  keys: z.strictObject({
    cache_ttl_ms: z.number().int().min(0).default(30_000).describe('How long a key lookup is cached (revocation on this instance is immediate regardless)'),
    max_ttl_seconds: z.number().int().positive().nullable().default(null).describe('Longest lifetime a new key may have; null = unlimited'),
    last_used_flush_ms: z.number().int().positive().default(5_000).describe('How often `last_used_at` updates are written, off the request path')
  }).prefault({}).describe('Virtual API keys'),
  upstreams: z.array(upstreamSchema).default([]).describe('Providers. Empty = the built-in mock provider serves `mock-*` models'),
  models: z.array(modelRouteSchema).default([]).describe('Caller model name → upstream. Empty with the mock = `mock-*` routed to it')
}).superRefine((c, ctx) => {
  const names = new Set<string>()
  c.upstreams.forEach((u, i) => {
    if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `duplicate upstream "${u.name}"` })
    names.add(u.name)
  })
  c.models.forEach((m, i) => {
    if (!names.has(m.upstream)) ctx.addIssue({ code: 'custom', path: ['models', i, 'upstream'], message: `no upstream named "${m.upstream}"` })
    const star = m.name.indexOf('*')
    if (star !== -1 && star !== m.name.length - 1) ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: 'only a trailing * is supported' })
  })
})

export type Config = z.infer<typeof configSchema>
export type UpstreamConfig = z.infer<typeof upstreamSchema>
export type ModelRouteConfig = z.infer<typeof modelRouteSchema>
