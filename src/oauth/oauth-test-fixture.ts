import { randomBytes } from 'node:crypto'
import { createAccessTokenVerifier } from './access-token.ts'
import type { AccessTokenVerifier } from './access-token.ts'
import { createClientAuthenticator } from './client-authentication.ts'
import type { ClientAuthenticator, OAuthClient } from './client-authentication.ts'
import { generateClientSecret, hashClientSecret } from './client-secret.ts'
import type { ScryptParams } from './client-secret.ts'
import { createIntrospectionEndpoint } from './introspection.ts'
import type { IntrospectionEndpoint } from './introspection.ts'
import { createMemoryTokenDenyList } from './memory-token-deny-list.ts'
import type { MemoryTokenDenyList } from './memory-token-deny-list.ts'
import type { OAuthRequest, OAuthResponse } from './oauth-response.ts'
import { createRevocationEndpoint } from './revocation.ts'
import type { RevocationEndpoint } from './revocation.ts'
import { generateSigningKey, loadSigningKeyRing } from './signing-keys.ts'
import type { SigningAlgorithm, SigningKeyRing, StoredSigningKey } from './signing-keys.ts'
import { createTokenEndpoint } from './token-endpoint.ts'
import type { TokenEndpoint } from './token-endpoint.ts'

/** Cheap scrypt for tests: the format and the checks are the same, only the cost differs. */
export const fastScrypt: ScryptParams = Object.freeze({ ln: 4, r: 8, p: 1 })

export const issuer = 'https://gateway.example.test'
export const audience = 'https://gateway.example.test/v1'

export interface OAuthFixture {
  readonly masterKey: Buffer
  readonly ring: SigningKeyRing
  readonly signingKey: StoredSigningKey
  /** The store: tests add, change and disable clients here. */
  readonly clients: Map<string, OAuthClient>
  /** `client_a` (tenant `acme`, scopes chat/embeddings/models:read) and its secret. */
  readonly clientId: string
  readonly secret: string
  /** How many times the store was asked, by id. */
  readonly lookups: string[]
  readonly authenticateClient: ClientAuthenticator
  readonly verifyToken: AccessTokenVerifier
  readonly denyList: MemoryTokenDenyList
  readonly token: TokenEndpoint
  readonly revoke: RevocationEndpoint
  readonly introspect: IntrospectionEndpoint
  addClient (client: Partial<OAuthClient> & { id: string }, secret?: string): Promise<string>
}

export async function oauthFixture (alg: SigningAlgorithm = 'EdDSA'): Promise<OAuthFixture> {
  const masterKey = randomBytes(32)
  const signingKey = await generateSigningKey(masterKey, alg)
  const ring = await loadSigningKeyRing({ masterKey, keys: [signingKey], maxTokenLifetimeSeconds: 3600 })
  const clients = new Map<string, OAuthClient>()
  const lookups: string[] = []
  const addClient = async (client: Partial<OAuthClient> & { id: string }, secret = generateClientSecret()): Promise<string> => {
    clients.set(client.id, {
      secretHash: await hashClientSecret(secret, fastScrypt),
      scopes: ['chat', 'embeddings', 'models:read'],
      tenant: 'acme',
      disabled: false,
      ...client
    })
    return secret
  }
  const secret = await addClient({ id: 'client_a' })
  const authenticateClient = createClientAuthenticator({
    findClient: (id) => {
      lookups.push(id)
      return clients.get(id) ?? null
    },
    scryptParams: fastScrypt
  })
  const verifyToken = createAccessTokenVerifier(ring, { issuer, audience })
  const denyList = createMemoryTokenDenyList()
  return {
    masterKey,
    ring,
    signingKey,
    clients,
    clientId: 'client_a',
    secret,
    lookups,
    authenticateClient,
    verifyToken,
    denyList,
    token: createTokenEndpoint({ ring, issuer, audience, authenticateClient }),
    revoke: createRevocationEndpoint({ authenticateClient, verifyToken, denyList }),
    introspect: createIntrospectionEndpoint({ authenticateClient, verifyToken, denyList }),
    addClient
  }
}

/** `Authorization: Basic` as RFC 6749 §2.3.1 asks: each part form-urlencoded, then base64. */
export function basicAuth (id: string, secret: string): string {
  return 'Basic ' + Buffer.from(formEncode(id) + ':' + formEncode(secret), 'utf8').toString('base64')
}

export function formEncode (text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2)
}

export function request (form: OAuthRequest['form'], headers: OAuthRequest['headers'] = {}): OAuthRequest {
  return { headers, form }
}

export function jsonBody (response: OAuthResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>
}

/** A token for the fixture's client, through the token endpoint. */
export async function obtainToken (fx: OAuthFixture, scope?: string): Promise<string> {
  const form: Record<string, string> = { grant_type: 'client_credentials' }
  if (scope !== undefined) form.scope = scope
  const response = await fx.token(request(form, { authorization: basicAuth(fx.clientId, fx.secret) }))
  if (response.status !== 200) throw new Error(`token request failed: ${response.body}`)
  return String(jsonBody(response).access_token)
}
