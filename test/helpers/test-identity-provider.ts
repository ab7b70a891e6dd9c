import { createHmac } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportSPKI, SignJWT, type JWTPayload } from 'jose'
import { mintKey, type TestKey } from '../../src/auth/jwt/jwt-fixture.ts'

/** The algorithms a test identity provider signs with. */
export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

/** A key pair made with jose, with the public JWK the IdP publishes for it. */
export interface SigningKey extends TestKey {
  readonly alg: SigningAlgorithm
}

export async function generateSigningKey (alg: SigningAlgorithm, kid?: string): Promise<SigningKey> {
  return { ...await mintKey(alg, kid), alg }
}

/**
 * A real identity provider on 127.0.0.1, port 0, laid out like a Keycloak realm: the issuer is
 * `<origin>/realms/<realm>`, the JWKS is at `<issuer>/protocol/openid-connect/certs` and the
 * OIDC discovery document at `<issuer>/.well-known/openid-configuration`.
 */
export interface TestIdentityProvider {
  readonly origin: string
  /** The `iss` of its tokens. */
  readonly issuer: string
  readonly jwksUri: string
  /** The keys the JWKS publishes (public parts only); assign a new list to rotate. */
  keys: SigningKey[]
  /** `error`: every request is answered 500, as by an IdP that is up but broken. */
  answer: 'ok' | 'error'
  /** Requests for the JWKS so far, whatever the answer. */
  readonly jwksRequests: number
  /** Requests for the discovery document so far. */
  readonly discoveryRequests: number
  /** Signs `claims` as given (nothing added) with jose; header `alg`/`kid` of the key and `typ: at+jwt` unless overridden. */
  sign (key: SigningKey, claims: JWTPayload, header?: Record<string, unknown>): Promise<string>
  /** Stops answering altogether: later key fetches get connection refused. Safe to call twice. */
  close (): Promise<void>
}

export async function startTestIdentityProvider (options: { realm?: string, keys?: SigningKey[] } = {}): Promise<TestIdentityProvider> {
  const realm = options.realm ?? 'test'
  const state = { keys: options.keys ?? [], answer: 'ok' as 'ok' | 'error', jwksRequests: 0, discoveryRequests: 0 }
  const paths = { jwks: `/realms/${realm}/protocol/openid-connect/certs`, discovery: `/realms/${realm}/.well-known/openid-configuration` }
  let issuer = ''
  const server = createServer((req, res) => {
    const path = req.url ?? ''
    if (path === paths.jwks) state.jwksRequests++
    else if (path === paths.discovery) state.discoveryRequests++
    else {
      res.writeHead(404).end()
      return
    }
    if (state.answer === 'error') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"unknown_error"}')
      return
    }
    if (path === paths.jwks) sendJson(res, { keys: state.keys.map(k => k.publicJwk) })
    else sendJson(res, { issuer, jwks_uri: issuer + '/protocol/openid-connect/certs', id_token_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'] })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer = `${origin}/realms/${realm}`
  return {
    origin,
    issuer,
    jwksUri: origin + paths.jwks,
    get keys () { return state.keys },
    set keys (value) { state.keys = value },
    get answer () { return state.answer },
    set answer (value) { state.answer = value },
    get jwksRequests () { return state.jwksRequests },
    get discoveryRequests () { return state.discoveryRequests },
    async sign (key, claims, header = {}) {
      return await new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
        .sign(key.privateKey)
    },
    async close () {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

function sendJson (res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
}

export function base64urlJson (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

const webCryptoSign: Readonly<Record<SigningAlgorithm, Parameters<typeof crypto.subtle.sign>[0]>> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' }
}

/**
 * Signs exactly the header and payload given with the key, through WebCrypto rather than jose,
 * so headers a library would refuse to produce (`crit` it does not know, `jku`, …) still carry a
 * valid signature. RFC 7515 §5.1: the signing input is `b64(header) . b64(payload)`; WebCrypto's
 * ECDSA output is already the raw `r || s` that RFC 7518 §3.4 asks for.
 */
export async function signRaw (key: SigningKey, header: Record<string, unknown>, payload: unknown): Promise<string> {
  const input = base64urlJson(header) + '.' + base64urlJson(payload)
  const signature = await crypto.subtle.sign(webCryptoSign[key.alg], key.privateKey, Buffer.from(input))
  return input + '.' + Buffer.from(signature).toString('base64url')
}

/** A token with the given header and payload and a made-up (possibly empty) signature. */
export function unsignedToken (header: Record<string, unknown>, payload: unknown, signature = ''): string {
  return base64urlJson(header) + '.' + base64urlJson(payload) + '.' + signature
}

/**
 * The key-confusion forgery of RFC 8725 §2.1: HS256 "signed" with the bytes of the IdP's public
 * key (its SPKI PEM, which anyone can fetch), hoping the verifier feeds that key to HMAC.
 */
export async function hmacWithPublicKey (key: SigningKey, header: Record<string, unknown>, payload: unknown): Promise<string> {
  const pem = await exportSPKI(key.publicKey)
  const input = base64urlJson({ ...header, alg: 'HS256' }) + '.' + base64urlJson(payload)
  return input + '.' + createHmac('sha256', pem).update(input).digest('base64url')
}
