import type { FastifyInstance } from 'fastify'
import type { Config, SecretRef } from '../config/config-schema.ts'
import type { Logger } from '../pipeline/context.ts'
import type { Store } from '../store/store.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import type { AdminRoute } from '../admin/admin-routes.ts'
import type { ScryptParams } from '../oauth/client-secret.ts'
import { createKeyService, maxGracePeriodSeconds, type KeyService } from './key-service.ts'
import { createClientService, type ClientService } from '../oauth/client-service.ts'
import { openSigningKeyManager, type SigningKeyManager } from '../oauth/signing-key-manager.ts'
import { openPersistentTokenDenyList } from '../oauth/persistent-token-deny-list.ts'
import { createFailedAuthThrottle, type MemoryFailedAuthThrottle } from './failed-auth-throttle.ts'
import { createTokenAuthenticator, type TokenAuthenticator } from './token-authenticator.ts'
import { createCredentialAuthenticator, type CredentialAuthenticator } from './credential-authenticator.ts'
import { externalIssuersFromConfig } from './trusted-issuers.ts'
import { compileRoles } from './roles.ts'
import { allScopes } from './scopes.ts'
import { keyRoutes } from '../admin/keys-routes.ts'
import { clientRoutes } from '../admin/clients-routes.ts'
import { signingKeyRoutes } from '../admin/signing-keys-routes.ts'
import { tokenRoutes } from '../admin/tokens-routes.ts'
import { createOAuthEndpoints, type OAuthEndpoints } from '../oauth/oauth-endpoints.ts'
import { registerOAuthRoutes } from '../server/oauth-routes.ts'
import { broadcastChanges, type Broadcast } from '../cluster/broadcast-changes.ts'
import type { ChangeBus } from '../cluster/change-bus.ts'
import type { EvidenceSink } from '../audit/evidence-sink.ts'

export interface IdentityOptions {
  readonly config: Readonly<Config>
  readonly store: Store
  readonly masterKey: Buffer
  readonly bootstrapAdminKey: string | null
  readonly log: Logger
  readonly resolveSecret: (ref: SecretRef) => Promise<string>
  readonly resolveClientIp: ClientIpResolver
  /** Cost of client secret hashes; tests lower it. Default scrypt N=2^15. */
  readonly scryptParams?: ScryptParams
  /** Where changes are published for other instances (a local no-op bus with one instance). */
  readonly bus: ChangeBus
  /** Where OAuth token, revocation and introspection requests are recorded (docs/audit.md). */
  readonly audit: EvidenceSink
}

/** Everything that establishes who a caller is, built once at start-up. */
export interface Identity {
  readonly keys: KeyService
  readonly clients: ClientService
  /** Null when `oauth.enabled` is false. */
  readonly signingKeys: SigningKeyManager | null
  /** This instance's caches, for applying other instances' changes (see cluster/broadcast-changes.ts). */
  readonly local: Broadcast
  readonly credentials: CredentialAuthenticator
  /** Failed-authentication counts and the recent events (lockouts, failures) for audit and anomaly detection. */
  readonly authFailures: MemoryFailedAuthThrottle
  readonly adminRoutes: readonly AdminRoute[]
  /** Registers `/oauth/*` and `/.well-known/*`; absent when OAuth is off. */
  readonly registerOAuth: ((app: FastifyInstance) => Promise<void>) | null
  /** Once the listener is up: fixes the default issuer (its URL) and fetches trusted issuers' keys. */
  start (listenerUrl: string): Promise<void>
  close (): Promise<void>
}

/**
 * The composition of the identity issue: API keys, OAuth clients and their tokens, trusted
 * external issuers, roles, the `jti` deny-list and brute-force protection. The OAuth issuer URL
 * defaults to the listener's own URL, which is known only after `listen`, so the parts that
 * need it are made on first use (at the latest in `start`, before any request can arrive).
 */
export async function buildIdentity (options: IdentityOptions): Promise<Identity> {
  const { config, store, log } = options
  const roles = compileRoles(config.auth.roles)
  const keys = createKeyService({ store: store.keys, masterKey: options.masterKey, bootstrapAdminKey: options.bootstrapAdminKey, config: config.keys, roles, log })
  const clients = createClientService({
    store: store.clients,
    roles,
    maxGraceSeconds: Math.min(config.oauth.client_secret_grace_max_seconds, maxGracePeriodSeconds),
    ...(options.scryptParams === undefined ? {} : { scryptParams: options.scryptParams })
  })
  const bf = config.auth.brute_force
  const throttle = createFailedAuthThrottle({
    maxFailures: bf.max_failures,
    windowSeconds: bf.window_seconds,
    cooldownSeconds: bf.cooldown_seconds,
    onEvent (event) {
      if (event.type === 'lockout') log.warn({ event: 'auth_lockout', kind: event.kind, ip: event.ip, client_id: event.clientId, until: new Date(event.lockedUntil ?? 0).toISOString() }, 'too many failed authentications: source refused for the cool-down')
    }
  })
  const oauthOn = config.oauth.enabled
  const signingKeys = oauthOn
    ? await openSigningKeyManager({ store: store.signingKeys, masterKey: options.masterKey, algorithm: config.oauth.signing_algorithm, maxTokenLifetimeSeconds: config.oauth.token_lifetime_seconds })
    : null
  const denyList = await openPersistentTokenDenyList({
    store: store.revokedTokens,
    onPurgeError: (err) => { log.warn({ err }, 'purging expired revoked tokens failed; retrying later') }
  })
  const external = await externalIssuersFromConfig(config.trusted_issuers, options.resolveSecret)
  const local: Broadcast = { keys, clients, denyList, signingKeys }
  // What the admin API and the OAuth endpoints change goes through these: applied here, then published.
  const shared = broadcastChanges(local, options.bus)

  let issuer: string | null = config.oauth.issuer ?? null
  const issuerNow = (): string => {
    if (issuer === null) throw new Error('the OAuth issuer is not known before the listener starts')
    return issuer
  }
  let endpoints: OAuthEndpoints | null = null
  const oauth = (): OAuthEndpoints => {
    endpoints ??= createOAuthEndpoints({
      ring: (signingKeys as SigningKeyManager).ring,
      issuer: issuerNow(),
      audience: config.oauth.audience ?? issuerNow(),
      lifetimeSeconds: config.oauth.token_lifetime_seconds,
      clients: shared.clients,
      denyList: shared.denyList,
      scopesSupported: allScopes,
      ...(options.scryptParams === undefined ? {} : { scryptParams: options.scryptParams })
    })
    return endpoints
  }
  let tokenAuthenticator: TokenAuthenticator | null = null
  const tokensOn = oauthOn || external.length > 0
  const tokens = (): TokenAuthenticator => {
    tokenAuthenticator ??= createTokenAuthenticator({
      own: signingKeys === null
        ? null
        : { issuer: issuerNow(), audience: config.oauth.audience ?? issuerNow(), ring: () => signingKeys.ring, reloadRing: () => signingKeys.reload(), clients },
      external,
      roles,
      clockSkewSeconds: config.auth.clock_skew_seconds,
      maxTokenBytes: config.auth.max_token_bytes,
      isRevoked: (jti) => denyList.isRevokedSync(jti),
      onJwksRefreshError: (iss, err) => { log.warn({ err, issuer: iss }, 'refreshing a trusted issuer\'s JWKS failed; the last good keys stay in use') }
    })
    return tokenAuthenticator
  }
  const credentials = createCredentialAuthenticator({
    keys,
    tokens: tokensOn ? { verify: (token) => tokens().verify(token), warmUp: async () => {}, close: async () => {} } : null,
    throttle
  })
  const adminRoutes = [
    ...keyRoutes(shared.keys),
    ...clientRoutes(shared.clients),
    ...(shared.signingKeys === null ? [] : signingKeyRoutes(shared.signingKeys)),
    ...(tokensOn
      ? tokenRoutes({
        verifyOwnToken: async (token) => signingKeys === null ? null : await oauth().verifyToken(token),
        denyList: shared.denyList,
        // External IdPs may issue longer tokens than ours; a day bounds any deny entry.
        maxTokenLifetimeSeconds: Math.max(config.oauth.token_lifetime_seconds, 86_400)
      })
      : [])
  ]
  return {
    keys,
    clients,
    signingKeys,
    local,
    credentials,
    authFailures: throttle,
    adminRoutes,
    registerOAuth: signingKeys === null
      ? null
      : async (app) => await registerOAuthRoutes(app, {
        tokenEndpoint: (request) => oauth().token(request),
        revocationEndpoint: (request) => oauth().revocation(request),
        introspectionEndpoint: (request) => oauth().introspection(request),
        get metadata () { return oauth().metadata },
        jwks: () => signingKeys.ring.jwks(),
        throttle,
        resolveClientIp: options.resolveClientIp,
        audit: options.audit
      }),
    async start (listenerUrl) {
      issuer ??= listenerUrl
      if (signingKeys !== null) oauth()
      if (tokensOn) await tokens().warmUp()
    },
    async close () {
      denyList.close()
      await tokenAuthenticator?.close()
      await keys.close()
    }
  }
}

