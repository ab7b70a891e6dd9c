import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDataDir } from '../crypto/master-key.ts'
import { genesisMac } from './audit-chain.ts'
import type { ChainHead } from './audit-chain.ts'
import { checkpointFileName, parseCheckpointLine } from './audit-checkpoint.ts'
import { listAuditSegments, segmentName } from './audit-segments.ts'
import { openDurableAppendFile, readLastLine } from './durable-append-file.ts'
import type { DurableAppendFile } from './durable-append-file.ts'

/** A torn final line cut off on start: what a crash in the middle of a write leaves. */
export interface TornTail {
  readonly file: string
  readonly bytes: number
}

/** The open files of a log directory and where its chain stands. */
export interface ResumedAuditLog {
  readonly segmentNumber: number
  readonly segment: DurableAppendFile
  readonly checkpoints: DurableAppendFile
  readonly head: ChainHead
  readonly checkpointSeq: number
  readonly torn: readonly TornTail[]
}

/**
 * Opens a log directory (created 0700) for appending: the last segment, with a torn final line
 * cut off, and the chain head taken from the last complete record. A complete last line that
 * is not a record is refused rather than chained over: that is damage, not a crash.
 */
export async function resumeAuditLog (dir: string): Promise<ResumedAuditLog> {
  await ensureDataDir(dir)
  const segments = await listAuditSegments(dir)
  const last = segments.at(-1)
  const segmentNumber = last?.number ?? 1
  const torn: TornTail[] = []
  const opened = await openDurableAppendFile(join(dir, segmentName(segmentNumber)), last === undefined)
  if (opened.tornBytes > 0) torn.push({ file: segmentName(segmentNumber), bytes: opened.tornBytes })
  try {
    let head: ChainHead = { seq: 0, mac: genesisMac }
    for (const segment of segments.toReversed()) {
      const line = await readLastLine(join(dir, segment.name))
      if (line === null) continue
      head = parseHead(line, segment.name)
      break
    }
    // Read before opening: the open would cut a torn tail, and this reads past it anyway.
    const lastCheckpoint = await readLastLine(join(dir, checkpointFileName)).catch(ignoreMissing)
    const checkpoints = await openDurableAppendFile(join(dir, checkpointFileName))
    if (checkpoints.tornBytes > 0) torn.push({ file: checkpointFileName, bytes: checkpoints.tornBytes })
    await syncDir(dir)
    return { segmentNumber, segment: opened.file, checkpoints: checkpoints.file, head, checkpointSeq: checkpointSeqOf(lastCheckpoint), torn }
  } catch (err) {
    await opened.file.close()
    throw err
  }
}

function ignoreMissing (err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT') return null
  throw err
}

function checkpointSeqOf (line: string | null): number {
  return line === null ? 0 : (parseCheckpointLine(line)?.seq ?? 0)
}

function parseHead (line: string, segment: string): ChainHead {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    value = null
  }
  const { seq, mac } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  if (!Number.isSafeInteger(seq) || typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) {
    throw new Error(`audit log: the last line of ${segment} is not a record; verify the log before writing to it`)
  }
  return { seq: seq as number, mac }
}

/** Makes a new file's directory entry durable (fsync(2) of the file alone does not). */
export async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
