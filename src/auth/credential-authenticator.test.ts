import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Principal } from '../pipeline/context.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { compileIpList } from '../lib/ip-list.ts'
import { createCredentialAuthenticator, type CredentialVerifier } from './credential-authenticator.ts'
import { createFailedAuthThrottle } from './failed-auth-throttle.ts'
import type { TokenAuthenticator } from './token-authenticator.ts'

const principal: Principal = Object.freeze({
  kind: 'api_key', keyId: 'key_x', clientId: null, subject: null, tokenId: null, name: 'x', tenant: null,
  scopes: new Set(['chat']), models: null, allowedIps: null
})

function keysAccepting (secret: string, result: Principal = principal): CredentialVerifier & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    verify (presented) {
      calls.push(presented)
      return presented === secret ? result : Promise.reject(new GatewayError('invalid_api_key'))
    }
  }
}

async function codeOf (fn: () => unknown): Promise<string> {
  try {
    await fn()
  } catch (err) {
    return (err as GatewayError).code
  }
  return 'ok'
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` })

test('JOSE-shaped credentials go to the token verifier (JWS and JWE); anything else to the keys', async () => {
  const keys = keysAccepting('pcl_good')
  const seen: string[] = []
  const tokens: TokenAuthenticator = {
    verify: (t) => { seen.push(t); return Promise.reject(new GatewayError('invalid_token')) },
    warmUp: async () => {},
    close: async () => {}
  }
  const auth = createCredentialAuthenticator({ keys, tokens, throttle: null })
  assert.equal(await codeOf(() => auth.authenticate(bearer('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'), '192.0.2.1')), 'invalid_token')
  assert.equal(await codeOf(() => auth.authenticate(bearer('eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'), '192.0.2.1')), 'invalid_token')
  assert.equal(seen.length, 2)
  assert.equal(await codeOf(() => auth.authenticate(bearer('pcl_good'), '192.0.2.1')), 'ok')
  assert.deepEqual(keys.calls, ['pcl_good'])
  // Without any token issuer, a JWT is still an invalid token, not an invalid API key.
  const noTokens = createCredentialAuthenticator({ keys, tokens: null, throttle: null })
  assert.equal(await codeOf(() => noTokens.authenticate(bearer('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'), '192.0.2.1')), 'invalid_token')
  assert.equal(await codeOf(() => noTokens.authenticate({}, '192.0.2.1')), 'missing_credentials')
})

test('failures count against the IP; past the threshold even the right key is refused without being checked', async () => {
  const keys = keysAccepting('pcl_good')
  const throttle = createFailedAuthThrottle({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: 60 })
  const auth = createCredentialAuthenticator({ keys, tokens: null, throttle })
  for (let i = 0; i < 3; i++) assert.equal(await codeOf(() => auth.authenticate(bearer(`pcl_bad${i}`), '203.0.113.9')), 'invalid_api_key')
  const calls = keys.calls.length
  let retryAfter: string | undefined
  try {
    auth.authenticate(bearer('pcl_good'), '203.0.113.9')
  } catch (err) {
    assert.equal((err as GatewayError).code, 'too_many_failed_attempts')
    retryAfter = (err as GatewayError).headers?.['retry-after']
  }
  assert.equal(retryAfter, '60')
  assert.equal(keys.calls.length, calls, 'the credential was not even looked at')
  assert.equal(await codeOf(() => auth.authenticate(bearer('pcl_good'), '203.0.113.10')), 'ok')
  // Missing credentials are not guesses and do not count.
  for (let i = 0; i < 5; i++) assert.equal(await codeOf(() => auth.authenticate({}, '198.51.100.1')), 'missing_credentials')
  assert.equal(await codeOf(() => auth.authenticate(bearer('pcl_good'), '198.51.100.1')), 'ok')
})

test('a credential with an IP allowlist is refused elsewhere with ip_not_allowed, synchronously for cached keys', async () => {
  const limited = { ...principal, allowedIps: compileIpList(['10.0.0.0/8', '2001:db8::/32'], 'test') }
  const auth = createCredentialAuthenticator({ keys: keysAccepting('pcl_good', limited), tokens: null, throttle: null })
  assert.equal(auth.authenticate(bearer('pcl_good'), '10.1.2.3'), limited)
  assert.equal(auth.authenticate(bearer('pcl_good'), '2001:db8::7'), limited)
  assert.throws(() => auth.authenticate(bearer('pcl_good'), '192.0.2.1'), (err: unknown) => (err as GatewayError).code === 'ip_not_allowed')
})
