// Measures access-token verification on the request path: `node src/auth/bench-token-authenticator.ts [iterations]`.
// Cold = a token seen for the first time (signature + claims, RFC 8725/9068 checks, jose);
// warm = a token already verified (cache hit: deny-list, client state, allowlists only).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'
import { openSigningKeyManager } from '../oauth/signing-key-manager.ts'
import { createClientService } from '../oauth/client-service.ts'
import { issueAccessToken } from '../oauth/access-token.ts'
import { createTokenAuthenticator } from './token-authenticator.ts'
import { createApiKeyHasher } from './api-key-hasher.ts'
import { defaultRoles } from './roles.ts'
import { fastScrypt } from '../oauth/oauth-test-fixture.ts'
import type { SigningAlgorithm } from '../oauth/signing-keys.ts'

const iterations = Number(process.argv[2] ?? 20_000)
const dir = mkdtempSync(join(tmpdir(), 'portcullis-jwt-bench-'))
const issuer = 'http://127.0.0.1:8080'
const masterKey = randomBytes(32)

async function measure (label: string, n: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(n, 2_000); i++) await fn(i)
  const start = performance.now()
  for (let i = 0; i < n; i++) await fn(i)
  const us = (performance.now() - start) * 1000 / n
  console.log(`${label.padEnd(52)} ${us.toFixed(2).padStart(8)} µs/op`)
}

try {
  const store = await openSqliteStore({ dataDir: dir })
  const clients = createClientService({ store: store.clients, roles: defaultRoles, maxGraceSeconds: 0, scryptParams: fastScrypt })
  const { client } = await clients.create({ name: 'bench', scopes: ['chat'] })
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}`)
  for (const alg of ['EdDSA', 'ES256'] as SigningAlgorithm[]) {
    const manager = await openSigningKeyManager({ store: store.signingKeys, masterKey, algorithm: alg, maxTokenLifetimeSeconds: 3600 })
    if (manager.ring.current().alg !== alg) await manager.rotate(alg)
    const authenticator = createTokenAuthenticator({
      own: { issuer, audience: issuer, ring: () => manager.ring, clients },
      external: [],
      roles: defaultRoles,
      clockSkewSeconds: 60,
      maxTokenBytes: 8192,
      isRevoked: () => false
    })
    const tokens: string[] = []
    for (let i = 0; i < iterations + 2_000; i++) {
      tokens.push((await issueAccessToken(manager.ring, { issuer, audience: issuer, subject: client.id, clientId: client.id, scope: ['chat'], tenant: null })).token)
    }
    // A fresh token each time: the cache never hits, every call verifies the signature.
    let next = 0
    await measure(`${alg} cold (first use of a token)`, iterations, () => authenticator.verify(tokens[next++] as string))
    await measure(`${alg} warm (same token again, cached)`, iterations * 10, () => authenticator.verify(tokens[0] as string))
    await authenticator.close()
  }
  const hasher = createApiKeyHasher(randomBytes(32))
  const hash = hasher.hash('pcl_' + 'a'.repeat(70))
  await measure('API key (HMAC compare, cached record) for reference', iterations * 10, () => hasher.matches('pcl_' + 'a'.repeat(70), hash))
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
