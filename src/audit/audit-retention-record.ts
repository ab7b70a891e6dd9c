import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AuditFields } from './audit-chain.ts'
import { computeRecordMac, macEquals } from './audit-chain.ts'
import { completeLines } from './audit-checkpoint.ts'

/** One deleted segment as the retention record names it: where the chain stood at its end. */
export interface DeletedSegment {
  readonly name: string
  readonly last_seq: number
  readonly last_mac: string
}

/**
 * The `type: 'retention'` record, appended to the chain (and made durable) before the segments
 * it names are deleted. `last_seq`/`last_mac` are where the deleted range ends: the first
 * record left has `seq = last_seq + 1` and `prev = last_mac`. Each segment's own end is there
 * too, so a deletion cut short (a crash after the first unlink) still verifies.
 */
export interface RetentionFields {
  readonly type: 'retention'
  readonly timestamp_utc: string
  readonly retention_days: number
  readonly first_seq: number
  readonly last_seq: number
  readonly last_mac: string
  readonly segments: readonly DeletedSegment[]
}

/** Where a log that starts after seq 1 is joined to what was deleted before it. */
export interface ChainAnchor {
  /** The segment just before the first one left (`audit-000003.jsonl` when 4 is first). */
  readonly segment: string
  /** seq and mac of the last deleted record: the first record left's `seq - 1` and `prev`. */
  readonly seq: number
  readonly mac: string
}

// In canonical JSON a top-level `"type":"retention"` is always spelled exactly so; a string
// value cannot contain it unescaped. A nested match is ruled out by the parse.
const marker = '"type":"retention"'

/** The retention record on this line, if it is one (the line has already been verified). */
export function parseRetentionLine (line: string): AuditFields | null {
  if (!line.includes(marker)) return null
  const record = JSON.parse(line) as AuditFields
  return record.type === 'retention' ? record : null
}

/**
 * Whether a (verified) retention record accounts for the missing start of the log: it names
 * the segment just before the first one left, ending exactly at the anchor's seq and mac.
 */
export function retentionCovers (record: AuditFields, anchor: ChainAnchor): boolean {
  const segments = record.segments
  if (!Array.isArray(segments)) return false
  return segments.some((entry) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false
    const { name, last_seq: seq, last_mac: mac } = entry as Record<string, unknown>
    return name === anchor.segment && seq === anchor.seq && typeof mac === 'string' && macEquals(mac, anchor.mac)
  })
}

/**
 * After the chain broke (a segment removed in the middle, say), whether a retention record past
 * the break still accounts for the deleted start. Such a record is not reached through the
 * chain, but its own mac proves the gateway wrote it, so the report can name the real break
 * rather than the start. Only read on that failure path.
 */
export async function laterRetentionCovers (dir: string, segments: readonly string[], anchor: ChainAnchor, macKey: KeyObject): Promise<boolean> {
  for (const name of segments) {
    for (const line of completeLines(await readFile(join(dir, name), 'utf8'))) {
      let record: AuditFields | null
      try {
        record = parseRetentionLine(line)
      } catch {
        continue
      }
      if (record === null || !retentionCovers(record, anchor)) continue
      const { mac, ...unsealed } = record
      if (typeof mac === 'string' && typeof unsealed.prev === 'string' && macEquals(mac, computeRecordMac(macKey, unsealed as AuditFields & { prev: string }))) return true
    }
  }
  return false
}
