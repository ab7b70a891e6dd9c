import type { AuditFields } from './audit-chain.ts'
import { sampleAuditFields } from './audit-log-fixture.ts'

/**
 * Test support: varied records for search tests. Record i is stamped 2025-01-01T00:00:00Z + i s;
 * tenant acme for odd i, globex for even; key `key_<i mod 3>`; every 5th a 429
 * `rate_limit_exceeded`; every 10th an admin record of no tenant, from 198.51.100.1.
 */
export function variedFields (i: number): AuditFields {
  const base = sampleAuditFields(i)
  if (i % 10 === 0) return { type: 'admin', timestamp_utc: base.timestamp_utc as string, actor: 'key_admin', action: 'keys.create', target: `key_${i}`, ip: '198.51.100.1', outcome: 'success', tenant: null }
  return {
    ...base,
    type: 'request',
    tenant: i % 2 === 1 ? 'acme' : 'globex',
    api_key_id: `key_${i % 3}`,
    status: i % 5 === 0 ? 429 : 200,
    error: i % 5 === 0 ? 'rate_limit_exceeded' : null
  }
}

