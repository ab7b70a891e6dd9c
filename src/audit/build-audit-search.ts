import type { Logger } from '../pipeline/context.ts'
import type { AdminRoute } from '../admin/admin-routes.ts'
import type { AuditRecord } from './audit-chain.ts'
import type { AuditMirror } from './audit-mirror.ts'
import type { AuditSearchSource } from './audit-search.ts'
import { auditRoutes } from '../admin/audit-routes.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { openPostgresAuditStore } from '../store/postgres/postgres-audit-store.ts'
import { createAuditMirror } from './audit-mirror.ts'
import { createFileAuditSearch } from './audit-file-search.ts'

export interface AuditSearchOptions {
  /** The running audit log (`Audit` of build-audit.ts): its directory and its record fan-out. */
  readonly audit: {
    /** False with `audit.enabled: false`: no search, `GET /admin/v1/audit` answers 404. */
    readonly enabled?: boolean
    readonly dir: string
    onRecord (listener: (record: AuditRecord) => void): void
  }
  /** Null on the embedded default: search reads the segment files. */
  readonly databaseUrl: string | null
  readonly databaseSchema?: string
  readonly log: Logger
}

/** `GET /admin/v1/audit` and, with PostgreSQL, the mirror that feeds it. */
export interface AuditSearch {
  readonly source: AuditSearchSource
  readonly adminRoutes: readonly AdminRoute[]
  /** Null without PostgreSQL. */
  readonly mirror: AuditMirror | null
  /** Call after the audit log is closed, so the mirror receives its last records. */
  close (): Promise<void>
}

/**
 * Embedded mode searches this instance's segment files. With PostgreSQL every sealed record is
 * also copied, in batches off the request path, to `audit_records`, and search reads that table,
 * so it sees the records of every instance of a cluster.
 */
export async function buildAuditSearch (options: AuditSearchOptions): Promise<AuditSearch> {
  const { audit, log } = options
  if (audit.enabled === false) {
    return { source: createFileAuditSearch({ dir: audit.dir }), adminRoutes: [auditOffRoute], mirror: null, close: async () => {} }
  }
  if (options.databaseUrl === null) {
    const source = createFileAuditSearch({ dir: audit.dir })
    return { source, adminRoutes: auditRoutes({ source }), mirror: null, close: async () => {} }
  }
  const table = await openPostgresAuditStore({
    url: options.databaseUrl, log, ...(options.databaseSchema === undefined ? {} : { schema: options.databaseSchema })
  })
  const mirror = createAuditMirror({ sink: table, log })
  audit.onRecord((record) => { mirror.push(record) })
  return {
    source: table,
    adminRoutes: auditRoutes({ source: table }),
    mirror,
    async close () {
      await mirror.close()
      await table.close()
    }
  }
}

/** With the log off, a search says why there is nothing, rather than an empty page that looks like "no records". */
const auditOffRoute: AdminRoute = {
  method: 'GET',
  url: '/audit',
  scope: 'admin:audit',
  handler: async () => {
    throw new GatewayError('not_found', { message: 'This gateway keeps no audit log (audit.enabled: false).' })
  }
}
