import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestGateway } from './start-test-gateway.ts'

/** A request record as it stands in a segment file. */
export type FileRecord = Record<string, unknown> & { seq: number, request_id?: string, type: string }

/** Every record in `<dataDir>/audit`, in chain order, parsed from the segment files as written. */
export async function readAuditFiles (dataDir: string): Promise<{ lines: string[], records: FileRecord[] }> {
  const dir = join(dataDir, 'audit')
  const names = (await readdir(dir)).filter((n) => /^audit-\d+\.jsonl$/.test(n)).sort()
  const lines: string[] = []
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8')
    for (const line of text.split('\n')) if (line !== '') lines.push(line)
  }
  return { lines, records: lines.map((l) => JSON.parse(l) as FileRecord) }
}

/** Flushes the gateway's audit writer, then returns the record of `requestId` (waiting for it up to `waitMs`). */
export async function auditRecordOf (gw: TestGateway, requestId: string, waitMs = 3_000): Promise<FileRecord> {
  const deadline = Date.now() + waitMs
  for (;;) {
    await gw.gateway.audit.writer.flush()
    const { records } = await readAuditFiles(gw.dataDir)
    const found = records.filter((r) => r.request_id === requestId)
    if (found.length > 1) throw new Error(`${found.length} records for ${requestId}`)
    if (found.length === 1) return found[0] as FileRecord
    if (Date.now() > deadline) throw new Error(`no audit record for ${requestId}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
