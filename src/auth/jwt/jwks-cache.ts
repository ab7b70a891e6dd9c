import { createLocalJWKSet, errors, type LocalJWKSet } from 'jose'
import { assertTrustedUrl, createKeyFetchAgent, fetchBoundedJson, type BoundedFetchLimits } from './bounded-json-fetch.ts'
import { publicSigningKeys, type KeyResolver } from './public-key-set.ts'

/** Where a trusted issuer publishes its keys: a JWKS URL, or OIDC discovery from the issuer. */
export type RemoteKeySource =
  | { readonly jwksUri: string }
  | { readonly discoveryIssuer: string }

export interface JwksCacheOptions {
  readonly source: RemoteKeySource
  /** Least time between two fetch attempts, successful or not. Default 60 s. */
  readonly refreshIntervalMs?: number
  /** Age after which the keys are refreshed in the background. Default 10 min. */
  readonly maxAgeMs?: number
  /** Whole-request time limit for one fetch. Default 5 s. */
  readonly timeoutMs?: number
  /** Largest JWKS or discovery document accepted. Default 64 KiB. */
  readonly maxBytes?: number
  /** Extra PEM CA bundle for a private IdP, added to the default roots. */
  readonly caPem?: string | null
  /** Told about background refresh failures (the last good keys stay in use). */
  readonly onRefreshError?: (err: unknown) => void
}

/** A remote JWKS with a rate-limited refresh; the last good keys survive a failing IdP. */
export interface JwksCache {
  /** jose key resolver: refetches on an unknown `kid` at most once per refresh interval. */
  readonly getKey: KeyResolver
  /** Fetches now unless a fetch ran less than the refresh interval ago (e.g. to warm at startup). */
  refresh (): Promise<void>
  close (): Promise<void>
}

export const JWKS_DEFAULTS = Object.freeze({
  refreshIntervalMs: 60_000,
  maxAgeMs: 600_000,
  timeoutMs: 5_000,
  maxBytes: 64 * 1024
})

export function createJwksCache (options: JwksCacheOptions): JwksCache {
  const refreshIntervalMs = options.refreshIntervalMs ?? JWKS_DEFAULTS.refreshIntervalMs
  const maxAgeMs = options.maxAgeMs ?? JWKS_DEFAULTS.maxAgeMs
  const onRefreshError = options.onRefreshError ?? (() => {})
  const loader = createKeySetLoader(options)
  let keys: LocalJWKSet | null = null
  let fetchedAt = -Infinity
  let attemptedAt = -Infinity
  let pending: Promise<void> | null = null

  /** Single flight: a burst of callers shares one fetch. A failure leaves `keys` as they were. */
  function refreshNow (): Promise<void> {
    if (pending !== null) return pending
    attemptedAt = Date.now()
    const current = loader.load().then(next => {
      keys = next
      fetchedAt = Date.now()
    }).finally(() => {
      if (pending === current) pending = null
    })
    pending = current
    return current
  }

  /** Awaits a fetch in flight, or starts one if the interval allows; false = keys cannot change now. */
  async function refreshIfAllowed (): Promise<boolean> {
    if (pending === null && Date.now() - attemptedAt < refreshIntervalMs) return false
    await refreshNow()
    return true
  }

  async function currentKeys (): Promise<LocalJWKSet> {
    if (keys === null) {
      if (!await refreshIfAllowed()) throw new Error('no keys: the last JWKS fetch failed within the refresh interval')
    } else if (Date.now() - fetchedAt >= maxAgeMs && pending === null && Date.now() - attemptedAt >= refreshIntervalMs) {
      // Stale keys keep serving while the refresh runs, and after it if it fails.
      refreshNow().catch(onRefreshError)
    }
    if (keys === null) throw new Error('no keys')
    return keys
  }

  async function getKey (...args: Parameters<KeyResolver>): ReturnType<KeyResolver> {
    const before = await currentKeys()
    try {
      return await before(...args)
    } catch (err) {
      await refreshForUnknownKid(err, refreshIfAllowed)
      return await (keys ?? before)(...args)
    }
  }

  return {
    getKey,
    async refresh () { await refreshIfAllowed() },
    async close () { await loader.close() }
  }
}

/**
 * RFC 7515 §4.1.4: an unknown kid may mean the IdP rotated its keys, so look again, but only as
 * often as the refresh interval allows, so forged kids cannot make the gateway hammer the IdP.
 * Rethrows `err` unless fresh keys may now hold the kid.
 */
async function refreshForUnknownKid (err: unknown, refreshIfAllowed: () => Promise<boolean>): Promise<void> {
  if (!(err instanceof errors.JWKSNoMatchingKey)) throw err
  let refreshed: boolean
  try {
    refreshed = await refreshIfAllowed()
  } catch (cause) {
    throw new Error('unknown kid, and the JWKS refresh failed', { cause })
  }
  if (!refreshed) throw err
}

interface KeySetLoader {
  load (): Promise<LocalJWKSet>
  close (): Promise<void>
}

/** Fetches the key set (after discovery, once, if the source is an issuer) within the size and time limits. */
function createKeySetLoader (options: JwksCacheOptions): KeySetLoader {
  const limits: BoundedFetchLimits = {
    timeoutMs: options.timeoutMs ?? JWKS_DEFAULTS.timeoutMs,
    maxBytes: options.maxBytes ?? JWKS_DEFAULTS.maxBytes
  }
  const { source } = options
  let jwksUrl = 'jwksUri' in source ? assertTrustedUrl(source.jwksUri, 'jwks_uri') : null
  const discovery = 'discoveryIssuer' in source
    ? { issuer: source.discoveryIssuer, url: discoveryUrlFor(source.discoveryIssuer) }
    : null
  const agent = createKeyFetchAgent(limits.timeoutMs, options.caPem ?? null)

  async function discoverJwksUri (issuer: string, url: URL): Promise<URL> {
    const document = await fetchBoundedJson(agent, url, limits) as { issuer?: unknown, jwks_uri?: unknown } | null
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
    if (document?.issuer !== issuer) throw new Error('discovery document names another issuer')
    if (typeof document.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri')
    return assertTrustedUrl(document.jwks_uri, 'jwks_uri')
  }

  return {
    async load () {
      if (jwksUrl === null && discovery !== null) jwksUrl = await discoverJwksUri(discovery.issuer, discovery.url)
      if (jwksUrl === null) throw new Error('no jwks_uri')
      return createLocalJWKSet(publicSigningKeys(await fetchBoundedJson(agent, jwksUrl, limits)))
    },
    async close () { await agent.close() }
  }
}

/** OpenID Connect Discovery 1.0 §4: the issuer without a trailing slash + the well-known path. */
function discoveryUrlFor (issuer: string): URL {
  assertTrustedUrl(issuer, 'issuer')
  return assertTrustedUrl(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, 'discovery URL')
}
