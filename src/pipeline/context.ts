import type { IncomingHttpHeaders } from 'node:http'
import type { ErrorCode } from '../errors/error-catalogue.ts'
import type { Provider, UpstreamResponse } from '../upstream/provider.ts'
import type { IpList } from '../lib/ip-list.ts'

/** The proxied endpoints. `models` is answered by the gateway itself. */
export type Endpoint = 'chat.completions' | 'completions' | 'embeddings' | 'models'

/**
 * How the caller proved who it is: an API key, the bootstrap admin credential, an access token
 * this gateway issued to an OAuth client, or a token from a trusted external issuer.
 */
export type PrincipalKind = 'api_key' | 'bootstrap_admin' | 'oauth_client' | 'external_token'

/** Who is calling, as established by the authenticate stage. Never holds a secret. */
export interface Principal {
  readonly kind: PrincipalKind
  /** Public key id (never the secret); API keys only. */
  readonly keyId: string | null
  /** OAuth client id: the token's `client_id` (own tokens), or the mapped claim (external). */
  readonly clientId: string | null
  /** Token subject (`sub` or the mapped claim); null for API keys. */
  readonly subject: string | null
  /** The token's `jti`, when it has one; for revocation and audit. */
  readonly tokenId: string | null
  readonly name: string | null
  readonly tenant: string | null
  /** Effective scopes: granted scopes plus those of the credential's roles. */
  readonly scopes: ReadonlySet<string>
  /** Model allowlist patterns (trailing `*` = prefix); null = every model. */
  readonly models: readonly string[] | null
  /** Client IP allowlist; null = any address. */
  readonly allowedIps: IpList | null
}

/** Where the route stage sends the request. */
export interface RouteDecision {
  readonly upstream: string
  readonly upstreamModel: string
  readonly provider: Provider
}

/** Minimal structured logger (pino-compatible) so stages do not depend on pino. */
export interface Logger {
  error (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
  info (obj: object, msg?: string): void
  debug (obj: object, msg?: string): void
  /** Lets a caller skip building a log object nobody will write. */
  isLevelEnabled (level: string): boolean
}

/**
 * Caller-supplied labels from the `x-portcullis-metadata` header (a flat JSON object, validated
 * and size-limited by the audit metadata stage); recorded in the audit record, never forwarded.
 */
export type RequestMetadata = Readonly<Record<string, string | number | boolean>>

/** Prompt and completion samples with every PII and secret value masked (guards). */
export interface RecordedSample {
  prompt: string | null
  completion: string | null
}

/** Token counts as finally settled for the request. */
export interface Usage {
  inputTokens: number
  outputTokens: number
}

/**
 * One typed context per request. A new cross-stage fact is a new typed field here,
 * never a string-keyed bag.
 */
export interface RequestContext {
  readonly requestId: string
  /** performance.now() when the request arrived. */
  readonly startedAt: number
  readonly receivedAt: Date
  readonly endpoint: Endpoint
  readonly method: string
  /** Request headers as Node parsed them (lowercase names). */
  readonly headers: IncomingHttpHeaders
  /** The TCP peer address. */
  readonly socketIp: string
  /** Client address after walking trusted proxies (edge stage). */
  clientIp: string
  /** The body text as received (null for GET); parsed strictly by the request-shape stage. */
  readonly rawBody: string | null
  /** The parsed JSON body (null for GET). What is authorised is exactly what is sent. */
  body: Record<string, unknown> | null
  model: string | null
  stream: boolean
  /** Whether the client itself asked for `stream_options.include_usage`. */
  clientWantsUsage: boolean
  principal: Principal | null
  route: RouteDecision | null
  /** Set by the forward stage, or by a stage that answers locally (e.g. `/v1/models`). */
  upstream: UpstreamResponse | null
  usage: Usage | null
  /** What the request cost in micro-USD once settled (limits stage); null when nothing was priced. */
  costMicroUsd: number | null
  /** ms from arrival to the first byte of the upstream response head. */
  ttfbMs: number | null
  /** Which limit refused the request (limits stage), for metrics; null when none did. */
  limitRefusal: 'requests' | 'tokens' | 'concurrency' | 'budget' | null
  /** Validated `x-portcullis-metadata` (audit metadata stage); null when absent or invalid. */
  metadata: RequestMetadata | null
  /**
   * Verdicts of the content guards, for the audit record (JSON values only); null when no guard
   * ran. Generic on purpose: the guards define the element type, the audit only serializes it.
   */
  guards: readonly unknown[] | null
  /**
   * A masked, size-limited sample of the prompt and completion, set only when a guard policy
   * asks (`guards.record_sample`); the record stage writes it as `sample`. Null otherwise.
   */
  sample: RecordedSample | null
  /** Headers stages add to the client response (rate-limit headers, …). */
  readonly responseHeaders: Record<string, string>
  /** Final status and error code, set by the runner before completion phases run. */
  status: number
  error: ErrorCode | null
  /** Aborted when the client disconnects; passed to the upstream request. */
  readonly signal: AbortSignal
  readonly log: Logger
}
