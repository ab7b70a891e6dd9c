import { z } from 'zod'
import type { JWK } from 'jose'
import type { AdminRoute } from './admin-routes.ts'
import type { SigningKeyManager, SigningKeySummary } from '../oauth/signing-key-manager.ts'
import { publicMembers, signingAlgorithms } from '../oauth/signing-keys.ts'
import type { SigningAlgorithm } from '../oauth/signing-keys.ts'
import { parseInput } from './parse-input.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import type { Principal } from '../pipeline/context.ts'
import { unixSeconds } from './unix-seconds.ts'

/** A published signing key as the admin API shows it (snake_case, Unix seconds). Never a private member. */
export interface SigningKeyJson {
  object: 'signing_key'
  kid: string
  alg: SigningAlgorithm
  status: 'current' | 'retiring'
  created_at: number
  /** When a newer key took over signing; null for the current key. */
  retired_at: number | null
  /** When it leaves the JWKS and stops verifying; null for the current key. */
  retire_after: number | null
  public_jwk: JWK
}

export interface SigningKeyListJson {
  object: 'list'
  /** Current key first. */
  data: SigningKeyJson[]
}

const rotateBody = z.strictObject({
  algorithm: z.enum(signingAlgorithms as readonly [SigningAlgorithm, ...SigningAlgorithm[]]).optional()
})


// Fields copied one by one, the JWK reduced to its public members again: the summary already has
// no private member, and this keeps it so whatever the summary grows.
export function signingKeyJson (key: SigningKeySummary): SigningKeyJson {
  return {
    object: 'signing_key',
    kid: key.kid,
    alg: key.alg,
    status: key.status,
    created_at: Math.floor(key.createdAt / 1000),
    retired_at: unixSeconds(key.retiredAt),
    retire_after: unixSeconds(key.retireAfter),
    public_jwk: publicMembers(key.publicJwk)
  }
}

async function listJson (manager: SigningKeyManager): Promise<SigningKeyListJson> {
  return { object: 'list', data: (await manager.list()).map(signingKeyJson) }
}

/** Signing keys serve every tenant: a tenant-bound credential may not see or rotate them, whatever its scopes. */
function operatorOnly (principal: Principal): void {
  if (principal.tenant !== null) throw new GatewayError('forbidden', { message: 'Signing keys are managed by an operator (a credential without a tenant).' })
}

/**
 * `/admin/v1/signing-keys`: list the published keys, and rotate. A rotation takes effect on this
 * instance at once; other instances pick it up when they reload (docs/oauth.md). The answer to a
 * rotation is the new list, the new current key first.
 */
export function signingKeyRoutes (manager: SigningKeyManager): AdminRoute[] {
  return [
    {
      method: 'GET', url: '/signing-keys', scope: 'admin:config',
      async handler ({ principal }) {
        operatorOnly(principal)
        return { body: await listJson(manager) }
      }
    },
    {
      method: 'POST', url: '/signing-keys/rotate', scope: 'admin:config',
      async handler ({ body, principal }) {
        operatorOnly(principal)
        const input = parseInput(rotateBody, body)
        await manager.rotate(input.algorithm)
        return { body: await listJson(manager) }
      }
    }
  ]
}
