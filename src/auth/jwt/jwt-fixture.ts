import { randomUUID } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose'

/** A key pair minted for a test, with its public JWK as an IdP would publish it. */
export interface TestKey {
  readonly alg: string
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

export async function mintKey (alg: string, kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...await exportJWK(publicKey), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicKey, publicJwk }
}

export function keySet (...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map(k => k.publicJwk) }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Signs `claims` as given (nothing added) with a header of kid/alg/typ at+jwt plus `header`. */
export async function signToken (key: TestKey, claims: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey)
}

export function base64url (value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** How the test IdP answers a JWKS request. */
export type JwksMode = 'ok' | 'fail' | 'hang' | 'huge' | 'huge-chunked' | 'redirect'

/** A real HTTP identity provider on 127.0.0.1, port 0: JWKS at /jwks, discovery at the well-known path. */
export interface TestIdp {
  readonly origin: string
  readonly jwksUri: string
  jwks: JSONWebKeySet
  mode: JwksMode
  /** The `issuer` the discovery document names (default: origin). */
  discoveryIssuer: string
  /** Requests to /jwks so far. */
  readonly jwksHits: number
  close (): Promise<void>
}

export async function startTestIdp (jwks: JSONWebKeySet): Promise<TestIdp> {
  let jwksHits = 0
  const state = { jwks, mode: 'ok' as JwksMode, discoveryIssuer: '' }
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      sendJson(res, { issuer: state.discoveryIssuer, jwks_uri: `${origin}/jwks` })
      return
    }
    if (req.url !== '/jwks') {
      res.writeHead(404).end()
      return
    }
    jwksHits++
    answerJwks(res, state.mode, state.jwks)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.discoveryIssuer = origin
  return {
    origin,
    jwksUri: `${origin}/jwks`,
    get jwks () { return state.jwks },
    set jwks (value) { state.jwks = value },
    get mode () { return state.mode },
    set mode (value) { state.mode = value },
    get discoveryIssuer () { return state.discoveryIssuer },
    set discoveryIssuer (value) { state.discoveryIssuer = value },
    get jwksHits () { return jwksHits },
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

function answerJwks (res: ServerResponse, mode: JwksMode, jwks: JSONWebKeySet): void {
  const padding = { keys: jwks.keys, padding: 'x'.repeat(70 * 1024) }
  switch (mode) {
    case 'ok': sendJson(res, jwks); return
    case 'fail': res.writeHead(500).end('{"error":"down"}'); return
    case 'hang': return
    case 'huge': sendJson(res, padding); return
    case 'huge-chunked': {
      res.writeHead(200, { 'content-type': 'application/json' })
      const body = JSON.stringify(padding)
      for (let i = 0; i < body.length; i += 4096) res.write(body.slice(i, i + 4096))
      res.end()
      return
    }
    case 'redirect': res.writeHead(302, { location: '/elsewhere' }).end()
  }
}

function sendJson (res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
