// Measures verifyAuditLog on a real 100k-record log: `node src/audit/bench-verifier.ts [records]`.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveAuditKeys } from './audit-keys.ts'
import { writeAuditLogFixture } from './audit-log-fixture.ts'
import { verifyAuditLog } from './audit-verifier.ts'

const count = Number(process.argv[2] ?? 100_000)
const root = mkdtempSync(join(tmpdir(), 'portcullis-audit-bench-'))
const dir = join(root, 'audit')
const keys = deriveAuditKeys(randomBytes(32))
try {
  const writeStart = performance.now()
  // 16 MiB segments, so that the run also crosses segment boundaries.
  await writeAuditLogFixture({ dir, keys, maxSegmentBytes: 16 * 1024 * 1024 }, count)
  const writeMs = performance.now() - writeStart
  const files = readdirSync(dir)
  const bytes = files.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
  const runs: number[] = []
  for (let run = 0; run < 3; run++) {
    const start = performance.now()
    const result = await verifyAuditLog(dir, keys)
    runs.push(performance.now() - start)
    if (!result.ok || result.records !== count) throw new Error(`verification failed: ${JSON.stringify(result)}`)
  }
  const best = Math.min(...runs)
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}`)
  console.log(`log: ${count} records, ${files.length - 1} segments, ${(bytes / 1048576).toFixed(1)} MiB, written in ${(writeMs / 1000).toFixed(2)} s`)
  console.log(`verify: best of 3 ${(best / 1000).toFixed(3)} s = ${Math.round(count / (best / 1000))} records/s (runs: ${runs.map((ms) => ms.toFixed(0)).join(', ')} ms)`)
} finally {
  rmSync(root, { recursive: true, force: true })
}
