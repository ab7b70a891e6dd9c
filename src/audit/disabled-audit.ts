import type { Logger } from '../pipeline/context.ts'
import type { AuditKeys } from './audit-keys.ts'
import type { AuditWriter } from './audit-writer.ts'
import type { Audit } from './build-audit.ts'
import { createMetadataStage } from './metadata-stage.ts'

/** What `append` throws with `audit.enabled: false`: nothing is recorded, and no caller may believe otherwise. */
export class AuditDisabledError extends Error {
  readonly code = 'audit_disabled'
  constructor () {
    super('the audit log is disabled (audit.enabled: false)')
    this.name = 'AuditDisabledError'
  }
}

export interface DisabledAuditOptions {
  readonly dir: string
  readonly keys: AuditKeys
  readonly metadataMaxBytes: number
  readonly log: Logger
}

/**
 * The `Audit` of a gateway started with `audit.enabled: false` (docs/audit.md, "Turning the log
 * off"): no file is opened, the record stage has no phase (it costs nothing and refuses nothing),
 * `enabled` is false so that the composition root leaves out what needs a log (the evidence sink,
 * `/readyz`'s audit check, search, retention, the audit gauges). `x-portcullis-metadata` is still
 * validated, so a client sees the same API whichever way the operator chose.
 */
export function disabledAudit (options: DisabledAuditOptions): Audit {
  options.log.warn({ audit_enabled: false }, 'THE AUDIT LOG IS DISABLED (audit.enabled: false): proxy requests, admin actions and OAuth requests leave NO tamper-evident record. Meant for benchmarks and for deployments that keep their evidence elsewhere.')
  const refuse = (): never => { throw new AuditDisabledError() }
  return {
    enabled: false,
    dir: options.dir,
    writer: disabledWriter,
    stage: { name: 'record' },
    metadataStage: createMetadataStage({ maxBytes: options.metadataMaxBytes }),
    verifyKeys: { macKey: options.keys.macKey, publicKey: options.keys.publicKey },
    append: refuse,
    onRecord () {},
    ready: () => ({ ok: true, detail: 'the audit log is disabled' }),
    close: async () => {}
  }
}

const disabledWriter: AuditWriter = {
  append () { throw new AuditDisabledError() },
  healthy: () => true,
  pending: () => 0,
  status: () => ({ healthy: true, pending: 0, lastError: null, writeFailures: 0, writtenSeq: 0, durableSeq: 0, checkpointSeq: 0, segment: '', recovered: [] }),
  flush: async () => {},
  close: async () => {}
}
