import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sampleClient } from '../store/store-contract-oauth.ts'
import { clientTokenRefusal } from './client-token-state.ts'

test('a client token is refused once its client is deleted, disabled, or had its tokens revoked at or after iat', () => {
  const client = sampleClient()
  assert.equal(clientTokenRefusal(client, 1_700_000_000), null)
  assert.equal(clientTokenRefusal(null, 1_700_000_000), 'client deleted')
  assert.equal(clientTokenRefusal({ ...client, disabledAt: 1 }, 1_700_000_000), 'client disabled')
  const revoked = { ...client, tokensRevokedBefore: 1_700_000_000_500 }
  assert.equal(clientTokenRefusal(revoked, 1_700_000_000), 'client tokens revoked', 'issued earlier in the same second')
  assert.equal(clientTokenRefusal(revoked, 1_700_000_001), null, 'issued in the next second')
  assert.equal(clientTokenRefusal(revoked, null), 'client tokens revoked', 'no iat counts as the oldest')
})
