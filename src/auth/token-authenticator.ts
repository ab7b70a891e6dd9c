import { errors, type CryptoKey } from 'jose'
import type { Principal } from '../pipeline/context.ts'
import type { ClientRecord } from '../store/store.ts'
import type { SigningKeyRing } from '../oauth/signing-keys.ts'
import type { JwtIssuerOptions } from './jwt/jwt-issuer-options.ts'
import type { VerifiedToken } from './jwt/verified-token.ts'
import type { RoleTable } from './roles.ts'
import { signingAlgorithms } from '../oauth/signing-keys.ts'
import { accessTokenType } from '../oauth/access-token.ts'
import { createJwtVerifier, invalidToken } from './jwt/jwt-verifier.ts'
import { compileIpList, type IpList } from '../lib/ip-list.ts'
import { expandRoles } from './roles.ts'
import { proxyScopes } from './scopes.ts'
import { createVerifiedTokenCache } from './verified-token-cache.ts'
import { clientTokenRefusal } from '../oauth/client-token-state.ts'

/** Portcullis's own issuer: tokens from `/oauth/token`, verified against the live signing-key ring. */
export interface OwnIssuer {
  readonly issuer: string
  readonly audience: string
  /** The current ring; a getter because rotation swaps it. */
  readonly ring: () => SigningKeyRing
  /**
   * Re-reads the ring from the store. Called on an unknown `kid` (at most once a second): another
   * instance may have created or rotated a key this one has not loaded yet (instances started
   * together each create a first key; the store settles on one, see signing-key-manager.ts).
   */
  readonly reloadRing?: () => Promise<void>
  /** A client as the hot path sees it; `peek` answers synchronously from cache (undefined = not cached). */
  readonly clients: {
    peek (id: string): ClientRecord | null | undefined
    find (id: string): Promise<ClientRecord | null>
  }
}

/** A trusted external issuer with what its tokens may do here. */
export interface ExternalIssuer {
  readonly options: JwtIssuerOptions
  /** Fixed tenant for every token of the issuer; else the mapped claim (or none). */
  readonly tenant: string | null
  /** Upper bound on granted scopes; the token's scopes and roles are cut down to it. */
  readonly scopes: readonly string[] | null
  readonly models: readonly string[] | null
  readonly allowedIps: readonly string[] | null
}

export interface TokenAuthenticatorOptions {
  readonly own: OwnIssuer | null
  readonly external: readonly ExternalIssuer[]
  readonly roles: RoleTable
  readonly clockSkewSeconds: number
  readonly maxTokenBytes: number
  /** True while the `jti` is on the deny-list; synchronous (an in-memory set). */
  readonly isRevoked: (jti: string) => boolean
  readonly onJwksRefreshError?: (issuer: string, err: unknown) => void
  readonly now?: () => number
}

export interface TokenAuthenticator {
  /** A verified token as a Principal; failures reject with 401 `invalid_token`. Cached tokens answer synchronously. */
  verify (token: string): Principal | Promise<Principal>
  warmUp (): Promise<void>
  close (): Promise<void>
}

interface IssuerPolicy {
  readonly own: boolean
  readonly tenant: string | null
  readonly scopes: ReadonlySet<string> | null
  readonly models: readonly string[] | null
  readonly allowedIps: IpList | null
}

/**
 * Bearer JWTs → Principal. The signature and claims are checked once per distinct token by the
 * strict verifier (RFC 8725, RFC 9068) and the result cached until the token expires; what can
 * change while a token lives — the `jti` deny-list, the client being disabled, deleted or having
 * all its tokens revoked — is checked on every request.
 */
export function createTokenAuthenticator (options: TokenAuthenticatorOptions): TokenAuthenticator {
  const { own, roles, isRevoked } = options
  const now = options.now ?? Date.now
  const issuers: JwtIssuerOptions[] = []
  const policies = new Map<string, IssuerPolicy>()
  if (own !== null) {
    issuers.push({
      issuer: own.issuer,
      kind: 'own',
      audience: own.audience,
      algorithms: [...signingAlgorithms],
      typ: [accessTokenType],
      keys: { kind: 'resolver', getKey: ownKeys(own) },
      clockSkewSeconds: options.clockSkewSeconds,
      maxTokenBytes: options.maxTokenBytes
    })
    policies.set(own.issuer, { own: true, tenant: null, scopes: null, models: null, allowedIps: null })
  }
  for (const ext of options.external) {
    if (own !== null && ext.options.issuer === own.issuer) throw new Error(`trusted issuer "${ext.options.issuer}" is this gateway's own issuer`)
    issuers.push({ clockSkewSeconds: options.clockSkewSeconds, maxTokenBytes: options.maxTokenBytes, ...ext.options })
    policies.set(ext.options.issuer, {
      own: false,
      tenant: ext.tenant,
      scopes: new Set(ext.scopes ?? proxyScopes),
      models: ext.models,
      allowedIps: ext.allowedIps === null ? null : compileIpList(ext.allowedIps, `trusted_issuers "${ext.options.issuer}" allowed_ips`)
    })
  }
  const verifier = createJwtVerifier({
    issuers,
    ...(options.onJwksRefreshError === undefined ? {} : { onJwksRefreshError: options.onJwksRefreshError })
  })
  const cache = createVerifiedTokenCache({ maxEntries: 10_000, now })
  const clientIps = new WeakMap<ClientRecord, IpList | null>()

  function principalOf (token: VerifiedToken): Principal | Promise<Principal> {
    if (token.jti !== null && isRevoked(token.jti)) throw invalidToken(new Error('jti revoked'))
    const policy = policies.get(token.issuer)
    if (policy === undefined) throw invalidToken(new Error('issuer no longer trusted'))
    if (!policy.own) return externalPrincipal(token, policy, roles)
    const clientId = token.clientId as string
    const cached = own?.clients.peek(clientId)
    if (cached !== undefined) return clientPrincipal(token, cached, clientIps)
    return (own as OwnIssuer).clients.find(clientId).then((client) => clientPrincipal(token, client, clientIps))
  }

  return {
    verify (token) {
      try {
        const hit = cache.get(token)
        if (hit !== undefined) return principalOf(hit)
        return verifier.verify(token).then((verified) => {
          cache.set(token, verified)
          return principalOf(verified)
        })
      } catch (err) {
        return Promise.reject(err)
      }
    },
    warmUp: () => verifier.warmUp(),
    close: () => verifier.close()
  }
}

const ringReloadEveryMs = 1000

/** The own ring's key for a `kid`; an unknown one reloads the ring first (rate-limited). */
function ownKeys (own: OwnIssuer): (header: { kid?: unknown }) => Promise<CryptoKey> {
  let lastReload = 0
  let reloading: Promise<void> | null = null
  return async (header) => {
    const kid = header.kid
    if (typeof kid !== 'string') throw new errors.JWKSNoMatchingKey()
    let key = own.ring().publicKey(kid)
    if (key === null && own.reloadRing !== undefined && (reloading !== null || Date.now() - lastReload >= ringReloadEveryMs)) {
      if (reloading === null) {
        lastReload = Date.now()
        reloading = own.reloadRing().finally(() => { reloading = null })
      }
      await reloading.catch(() => {})
      key = own.ring().publicKey(kid)
    }
    if (key === null) throw new errors.JWKSNoMatchingKey()
    return key
  }
}

/**
 * An own token stays valid only while its client exists, is enabled and has not had its tokens
 * revoked. Tenant, model allowlist and IP allowlist come from the client record, not the token.
 */
function clientPrincipal (token: VerifiedToken, client: ClientRecord | null, ips: WeakMap<ClientRecord, IpList | null>): Principal {
  const refusal = clientTokenRefusal(client, token.issuedAt)
  if (refusal !== null || client === null) throw invalidToken(new Error(refusal ?? 'client deleted'))
  let allowedIps = ips.get(client)
  if (allowedIps === undefined) {
    allowedIps = client.allowedIps === null ? null : compileIpList(client.allowedIps, `client ${client.id} allowed_ips`)
    ips.set(client, allowedIps)
  }
  return {
    kind: 'oauth_client',
    keyId: null,
    clientId: client.id,
    subject: token.subject,
    tokenId: token.jti,
    name: client.name,
    tenant: client.tenant,
    scopes: new Set(token.scopes),
    models: client.models,
    allowedIps
  }
}

function externalPrincipal (token: VerifiedToken, policy: IssuerPolicy, roles: RoleTable): Principal {
  const granted = expandRoles(roles, token.scopes, token.roles)
  const scopes = new Set<string>()
  for (const scope of granted) if (policy.scopes?.has(scope) === true) scopes.add(scope)
  return {
    kind: 'external_token',
    keyId: null,
    clientId: token.clientId,
    subject: token.subject,
    tokenId: token.jti,
    name: token.subject,
    tenant: policy.tenant ?? token.tenant,
    scopes,
    models: policy.models,
    allowedIps: policy.allowedIps
  }
}
