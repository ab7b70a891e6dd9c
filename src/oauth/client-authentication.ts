import type { IpList } from '../lib/ip-list.ts'
import { generateClientSecret, hashClientSecret, verifyClientSecretWithRotation } from './client-secret.ts'
import type { ScryptParams } from './client-secret.ts'
import { formValues, oauthError } from './oauth-response.ts'
import type { OAuthRequest, OAuthResponse } from './oauth-response.ts'

/** An OAuth client as the store returns it. Timestamps are epoch ms. */
export interface OAuthClient {
  readonly id: string
  readonly secretHash: string
  readonly previousSecretHash?: string | null
  readonly previousExpiresAt?: number | null
  readonly scopes: readonly string[]
  readonly tenant: string | null
  readonly disabled: boolean
  /**
   * Addresses the client may authenticate from; null or absent = any. A request from elsewhere
   * fails exactly like a wrong secret, so the list is not revealed.
   */
  readonly allowedIps?: IpList | null
}

/** Looks a client up by id; null when there is none. Keeps storage out of the OAuth handlers. */
export type FindClient = (id: string) => Promise<OAuthClient | null> | OAuthClient | null

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post'

export type ClientAuthResult =
  | { readonly ok: true, readonly client: OAuthClient, readonly method: ClientAuthMethod, readonly secret: 'current' | 'previous' }
  | { readonly ok: false, readonly response: OAuthResponse }

/** Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3.1). */
export type ClientAuthenticator = (request: OAuthRequest) => Promise<ClientAuthResult>

export interface ClientAuthenticatorOptions {
  readonly findClient: FindClient
  /** Cost of the dummy hash checked for unknown ids; use the cost stored secrets are hashed with. */
  readonly scryptParams?: ScryptParams
  /** Epoch ms; for tests. */
  readonly now?: () => number
}

export const clientAuthMethods: readonly ClientAuthMethod[] = Object.freeze(['client_secret_basic', 'client_secret_post'])

// Longer values cannot belong to a client; refusing them before any lookup or scrypt bounds the work.
const maxIdLength = 256
const maxSecretLength = 1024
const basicCredentials = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i
const failed = 'Client authentication failed.'

type Presented = { readonly id: string, readonly secret: string, readonly method: ClientAuthMethod }

export function createClientAuthenticator (options: ClientAuthenticatorOptions): ClientAuthenticator {
  const { findClient } = options
  const now = options.now ?? Date.now
  // Made at start-up, not on the first unknown id, so that first answer is not slower either.
  const dummyHash = hashClientSecret(generateClientSecret(), options.scryptParams)
  dummyHash.catch(() => undefined)
  return async function authenticateClient (request) {
    const presented = presentedCredentials(request)
    if ('response' in presented) return presented
    const client = await findClient(presented.id)
    // An unknown id costs one scrypt against a dummy hash, like a known id, so that neither the
    // answer nor its timing tells an attacker which client ids exist.
    const hashes = client ?? { secretHash: await dummyHash }
    const matched = await verifyClientSecretWithRotation(presented.secret, hashes, now())
    if (client === null || client.disabled || client.id !== presented.id || matched === null || !allowedFrom(client, request.ip)) {
      return { ok: false, response: oauthError('invalid_client', failed) }
    }
    return { ok: true, client, method: presented.method, secret: matched }
  }
}

// Checked after the secret, so that the answer and its timing are those of a wrong secret. A
// request without an address (not through the HTTP edge) is refused for a client with a list.
function allowedFrom (client: OAuthClient, ip: string | undefined): boolean {
  if (client.allowedIps === undefined || client.allowedIps === null) return true
  return ip !== undefined && client.allowedIps.has(ip)
}

/**
 * The client id a request names, checking nothing: the key under which the brute-force throttle
 * counts failures. The Basic header wins over the body; null when there is none, when the body
 * repeats it, or when it is longer than any client id can be.
 */
export function presentedClientId (request: OAuthRequest): string | null {
  const authorization = request.headers.authorization
  const parts = typeof authorization === 'string' ? basicParts(authorization) : null
  const basic = parts === null ? null : formDecode(parts[0])
  const id = basic ?? formValues(request.form, ['client_id'])?.client_id ?? null
  return id !== null && id.length <= maxIdLength ? id : null
}

/** Which credentials the request carries, or the error that refuses it before any lookup. */
function presentedCredentials (request: OAuthRequest): Presented | { readonly ok: false, readonly response: OAuthResponse } {
  const refuse = (response: OAuthResponse): { ok: false, response: OAuthResponse } => ({ ok: false, response })
  const authorization = request.headers.authorization
  if (authorization !== undefined && typeof authorization !== 'string') {
    return refuse(oauthError('invalid_request', 'The Authorization header was sent more than once.'))
  }
  const form = formValues(request.form, ['client_id', 'client_secret'])
  if (form === null) return refuse(oauthError('invalid_request', 'A parameter was sent more than once.'))
  let presented: Presented
  if (authorization !== undefined) {
    // RFC 6749 §2.3: a client must not use more than one authentication method in a request.
    if (form.client_secret !== null) {
      return refuse(oauthError('invalid_request', 'Use one client authentication method: Authorization Basic or client_secret in the body, not both.'))
    }
    const basic = parseBasic(authorization)
    if (basic === null) return refuse(oauthError('invalid_client', failed))
    // RFC 6749 §3.2.1 lets a client name itself with client_id as well; it must be the same client.
    if (form.client_id !== null && form.client_id !== basic.id) {
      return refuse(oauthError('invalid_request', 'client_id in the body does not match the Authorization header.'))
    }
    presented = { ...basic, method: 'client_secret_basic' }
  } else if (form.client_secret !== null) {
    if (form.client_id === null) return refuse(oauthError('invalid_request', 'client_secret was sent without client_id.'))
    presented = { id: form.client_id, secret: form.client_secret, method: 'client_secret_post' }
  } else {
    // No secret at all (or client_id alone, a public client): this server has only confidential clients.
    return refuse(oauthError('invalid_client', 'Client authentication is required.'))
  }
  if (presented.id.length > maxIdLength || presented.secret.length > maxSecretLength) return refuse(oauthError('invalid_client', failed))
  return presented
}

/**
 * RFC 6749 §2.3.1 + RFC 7617: base64 of `id:secret`, where id and secret are each
 * application/x-www-form-urlencoded first, so either may contain `:`, `%` or `+` once encoded.
 */
function parseBasic (header: string): { id: string, secret: string } | null {
  const parts = basicParts(header)
  if (parts === null) return null
  const id = formDecode(parts[0])
  const secret = formDecode(parts[1])
  if (id === null || secret === null || id === '' || secret === '') return null
  return { id, secret }
}

/** The still form-encoded id and secret of a Basic header; null when it is not one. */
function basicParts (header: string): readonly [string, string] | null {
  const match = basicCredentials.exec(header)
  if (match === null) return null
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 1 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)]
}

function formDecode (text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return null
  }
}

export type TokenRequestResult =
  | { readonly ok: true, readonly token: string, readonly client: OAuthClient }
  | { readonly ok: false, readonly response: OAuthResponse }

/**
 * The common start of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1): exactly one
 * `token` parameter, then client authentication. `token_type_hint` is only a hint and there is one
 * kind of token here, so it is checked for repeats and otherwise not read.
 */
export async function authenticateTokenRequest (request: OAuthRequest, authenticateClient: ClientAuthenticator): Promise<TokenRequestResult> {
  const form = formValues(request.form, ['token', 'token_type_hint'])
  if (form === null) return { ok: false, response: oauthError('invalid_request', 'A parameter was sent more than once.') }
  if (form.token === null) return { ok: false, response: oauthError('invalid_request', 'token is required.') }
  const auth = await authenticateClient(request)
  if (!auth.ok) return auth
  return { ok: true, token: form.token, client: auth.client }
}
