import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import { deriveAuditKeys, type AuditKeys } from '../audit/audit-keys.ts'
import { writeAuditLogFixture } from '../audit/audit-log-fixture.ts'
import { variedFields } from '../audit/audit-search-fixture.ts'
import { createFileAuditSearch } from '../audit/audit-file-search.ts'
import type { AuditSearchSource } from '../audit/audit-search.ts'
import { createAdminTestApp, keyMinter } from './admin-test-app.ts'
import { auditRoutes } from './audit-routes.ts'

/** Test support: `GET /admin/v1/audit` over a real 60-record log (see `variedFields`), with admin keys of each kind. */
export interface AuditAdminHarness extends KeyServiceFixture {
  readonly app: FastifyInstance
  readonly auditDir: string
  readonly auditKeys: AuditKeys
  /** `admin`, no tenant. */
  readonly operator: string
  /** `admin:audit`, bound to tenant `acme`. */
  readonly acmeAuditor: string
  /** `admin:keys` only. */
  readonly keysOnly: string
}

/** `source` builds the search source once the log is written (default: the files themselves). */
export async function auditAdminHarness (t: TestContext, source?: (dir: string) => Promise<AuditSearchSource>, count = 60): Promise<AuditAdminHarness> {
  const f = await startKeyService(t)
  const auditDir = join(f.dataDir, 'audit')
  const auditKeys = deriveAuditKeys(randomBytes(32))
  await writeAuditLogFixture({ dir: auditDir, keys: auditKeys, maxSegmentBytes: 20 * 520, checkpointEveryRecords: 10, queueSize: 10 }, count, variedFields)
  const app = await createAdminTestApp(t, f.service, [], auditRoutes({ source: await source?.(auditDir) ?? createFileAuditSearch({ dir: auditDir }) }))
  await app.ready()
  const key = keyMinter(f.service)
  return {
    ...f,
    app,
    auditDir,
    auditKeys,
    operator: await key('operator', ['admin']),
    acmeAuditor: await key('acme-auditor', ['admin:audit'], 'acme'),
    keysOnly: await key('keys-admin', ['admin:keys'])
  }
}
