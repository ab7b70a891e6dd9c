import type { TrustedIssuerConfig } from '../config/config-schema.ts'
import type { SecretRef } from '../config/config-schema.ts'
import type { ExternalIssuer } from './token-authenticator.ts'
import { validateModels, validateScopes } from './key-rules.ts'
import { compileIpList } from '../lib/ip-list.ts'

/**
 * `trusted_issuers` from the config → what the token authenticator needs. Everything is checked
 * here, at start-up, so a typo in an issuer's scopes or CIDRs stops the gateway instead of
 * quietly granting or refusing at request time.
 */
export async function externalIssuersFromConfig (
  configured: readonly TrustedIssuerConfig[],
  resolveSecret: (ref: SecretRef) => Promise<string>
): Promise<ExternalIssuer[]> {
  return await Promise.all(configured.map(async (c, i) => {
    const where = `trusted_issuers[${i}] (${c.issuer})`
    const scopes = c.scopes === null ? null : checked(where, 'scopes', () => validateScopes(c.scopes as string[]))
    const models = checked(where, 'models', () => validateModels(c.models))
    if (c.allowed_ips !== null) checked(where, 'allowed_ips', () => compileIpList(c.allowed_ips as string[], 'allowed_ips'))
    const caPem = c.ca === undefined ? null : await resolveSecret(c.ca)
    return {
      options: {
        issuer: c.issuer,
        kind: 'external',
        audience: c.audience,
        algorithms: c.algorithms,
        typ: c.typ,
        keys: c.jwks_uri === undefined ? { kind: 'discovery' } : { kind: 'jwks_uri', jwksUri: c.jwks_uri },
        ...(c.clock_skew_seconds === undefined ? {} : { clockSkewSeconds: c.clock_skew_seconds }),
        ...(c.max_token_bytes === undefined ? {} : { maxTokenBytes: c.max_token_bytes }),
        claims: { subject: c.claims.subject, clientId: c.claims.client_id, tenant: c.claims.tenant, scopes: c.claims.scopes, roles: c.claims.roles },
        jwks: {
          refreshIntervalMs: c.jwks_refresh_interval_seconds * 1000,
          maxAgeMs: c.jwks_max_age_seconds * 1000,
          timeoutMs: c.jwks_timeout_ms,
          maxBytes: c.jwks_max_bytes,
          caPem
        }
      },
      tenant: c.tenant,
      scopes,
      models,
      allowedIps: c.allowed_ips
    } satisfies ExternalIssuer
  }))
}

function checked<T> (where: string, field: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new Error(`${where}.${field}: ${(err as Error).message}`)
  }
}
