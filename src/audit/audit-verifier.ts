import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { computeRecordMac, genesisMac, macEquals } from './audit-chain.ts'
import type { AuditFields, ChainHead } from './audit-chain.ts'
import { checkpointFileName, completeLines, parseCheckpointLine, verifyCheckpoint } from './audit-checkpoint.ts'
import type { SignedCheckpoint } from './audit-checkpoint.ts'
import type { AuditVerifyKeys } from './audit-keys.ts'
import { listAuditSegments, segmentName } from './audit-segments.ts'
import { laterRetentionCovers, parseRetentionLine, retentionCovers } from './audit-retention-record.ts'
import type { ChainAnchor } from './audit-retention-record.ts'
import { canonicalJson } from './canonical-json.ts'
import type { JsonValue } from './canonical-json.ts'

/** The first thing that does not verify. `line` is 1-based within `segment`. */
export interface BadRecord {
  readonly segment: string
  readonly line: number
  readonly seq: number
  readonly reason: string
}

export interface AuditVerifyResult {
  readonly ok: boolean
  /** Records that verified, up to the first bad one. */
  readonly records: number
  readonly checkpoints: number
  /** An incomplete final line of the last segment (a crash before the writer restarted). */
  readonly tornBytes: number
  readonly firstBad?: BadRecord
}

export interface AuditVerifyOptions {
  /**
   * Checkpoints kept outside the directory (exported earlier). They catch what the directory
   * alone cannot: records cut from the end together with the checkpoints that covered them.
   */
  readonly anchors?: readonly SignedCheckpoint[]
}

type Expected = Map<number, string>

/**
 * Verifies a log directory: segments in order and without gaps, seq continuity, prev links,
 * every mac, every checkpoint signature, and that each checkpoint matches the record at its seq
 * and lies within the log. Stops at the first bad record and names it.
 *
 * A log whose oldest segments were deleted by retention starts later than seq 1: its first
 * record's `seq - 1` and `prev` are the anchor, and a retention record later in the chain must
 * state exactly that end for the segment before (see audit-retention-record.ts). Without one,
 * the missing start is the first bad record.
 */
export async function verifyAuditLog (dir: string, keys: AuditVerifyKeys, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const loaded = await loadCheckpoints(dir, keys, options.anchors ?? [])
  if ('bad' in loaded) return { ok: false, records: 0, checkpoints: 0, tornBytes: 0, firstBad: loaded.bad }
  const expected = loaded.expected
  const segments = await listAuditSegments(dir)
  const firstNumber = segments[0]?.number ?? 1
  let head: ChainHead = { seq: 0, mac: genesisMac }
  let base = 0
  let anchor: (ChainAnchor & { at: string, covered: boolean }) | null = null
  let position = { segment: segmentName(1), line: 0 }
  let tornBytes = 0
  const finish = async (firstBad?: BadRecord): Promise<AuditVerifyResult> => {
    if (anchor !== null && !anchor.covered && firstBad !== undefined) {
      const rest = segments.map((segment) => segment.name).filter((name) => name >= firstBad.segment)
      anchor.covered = await laterRetentionCovers(dir, rest, anchor, keys.macKey)
    }
    if (anchor !== null && !anchor.covered) {
      // The unaccounted start comes before anything found later: it is the first bad record.
      const reason = `segment ${anchor.segment} is missing and no retention record accounts for it`
      return { ok: false, records: 0, checkpoints: expected.size, tornBytes, firstBad: { segment: anchor.at, line: 1, seq: anchor.seq + 1, reason } }
    }
    const result = { ok: firstBad === undefined, records: head.seq - base, checkpoints: expected.size, tornBytes }
    return firstBad === undefined ? result : { ...result, firstBad }
  }
  for (const [index, segment] of segments.entries()) {
    const fail = async (line: number, reason: string): Promise<AuditVerifyResult> => await finish({ segment: segment.name, line, seq: head.seq + 1, reason })
    if (segment.number !== firstNumber + index) return fail(1, `segment ${segmentName(firstNumber + index)} is missing`)
    const text = await readFile(join(dir, segment.name), 'utf8')
    const lines = completeLines(text)
    const torn = text.length - (text.lastIndexOf('\n') + 1)
    if (torn > 0 && index < segments.length - 1) return fail(lines.length + 1, 'an incomplete line inside the log')
    tornBytes = Buffer.byteLength(text.slice(text.length - torn))
    if (index === 0 && firstNumber > 1) {
      const start = startOf(lines[0])
      if (start === null) return fail(1, `segments before ${segment.name} were deleted and its first line cannot anchor the chain`)
      anchor = { segment: segmentName(firstNumber - 1), ...start, at: segment.name, covered: false }
      head = start
      base = start.seq
      const signed = expected.get(start.seq)
      if (signed !== undefined && !macEquals(signed, start.mac)) return fail(1, `prev does not match the signed checkpoint at seq ${start.seq}`)
    }
    for (const [i, line] of lines.entries()) {
      const checked = checkRecordLine(line, head, keys.macKey, expected)
      if (typeof checked === 'string') return fail(i + 1, checked)
      head = checked
      if (anchor !== null && !anchor.covered) {
        const retention = parseRetentionLine(line)
        if (retention !== null) anchor.covered = retentionCovers(retention, anchor)
      }
    }
    position = { segment: segment.name, line: lines.length }
  }
  const beyond = [...expected.keys()].filter((seq) => seq > head.seq)
  if (beyond.length > 0) {
    const reason = `the log ends at seq ${head.seq} but a signed checkpoint covers seq ${Math.max(...beyond)}: records were removed from the end`
    return await finish({ segment: position.segment, line: position.line + 1, seq: head.seq + 1, reason })
  }
  return await finish()
}

/** seq - 1 and prev of a segment's first line: where the chain before it ended. */
function startOf (line: string | undefined): ChainHead | null {
  try {
    const { seq, prev } = JSON.parse(line ?? '') as Record<string, unknown>
    return Number.isSafeInteger(seq) && (seq as number) > 1 && typeof prev === 'string' ? { seq: (seq as number) - 1, mac: prev } : null
  } catch {
    return null
  }
}

/** Checks one line against the chain so far; returns the new head or why the line is bad. */
function checkRecordLine (line: string, head: ChainHead, macKey: KeyObject, expected: Expected): ChainHead | string {
  let record: JsonValue
  try {
    record = JSON.parse(line) as JsonValue
  } catch {
    return 'not JSON'
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a record'
  const { seq, prev, mac, ...fields } = record as AuditFields
  if (typeof seq !== 'number' || typeof prev !== 'string' || typeof mac !== 'string') return 'seq, prev or mac missing'
  try {
    // Only one serialization is MACed; any other spelling (whitespace, escapes, duplicate keys) is an edit.
    if (canonicalJson(record) !== line) return 'not in canonical form: the line was edited'
  } catch {
    return 'holds a value JSON records cannot'
  }
  if (seq !== head.seq + 1) {
    return seq > head.seq + 1
      ? `seq ${seq} where ${head.seq + 1} was expected: records are missing or out of order`
      : `seq ${seq} where ${head.seq + 1} was expected: a record is repeated, inserted or out of order`
  }
  if (!macEquals(prev, head.mac)) return 'prev is not the mac of the record before: a record was inserted or removed'
  if (!macEquals(mac, computeRecordMac(macKey, { ...fields, seq, prev }))) return 'mac does not match: the record was altered or forged'
  const signed = expected.get(seq)
  if (signed !== undefined && !macEquals(mac, signed)) return `does not match the signed checkpoint at seq ${seq}`
  return { seq, mac }
}

type LoadedCheckpoints = { readonly expected: Expected } | { readonly bad: BadRecord }

/** Signed checkpoints from the directory and the anchors, as seq → mac; the first bad one otherwise. */
async function loadCheckpoints (dir: string, keys: AuditVerifyKeys, anchors: readonly SignedCheckpoint[]): Promise<LoadedCheckpoints> {
  let text = ''
  try {
    text = await readFile(join(dir, checkpointFileName), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const expected: Expected = new Map()
  const sources = [
    ...completeLines(text).map((line, i) => ({ file: checkpointFileName, line: i + 1, checkpoint: parseCheckpointLine(line) })),
    ...anchors.map((checkpoint, i) => ({ file: 'anchors', line: i + 1, checkpoint: parseCheckpointLine(JSON.stringify(checkpoint)) }))
  ]
  let lastSeq = 0
  for (const { file, line, checkpoint } of sources) {
    const bad = (seq: number, reason: string): LoadedCheckpoints => ({ bad: { segment: file, line, seq, reason } })
    if (checkpoint === null) return bad(0, 'not a checkpoint')
    if (!verifyCheckpoint(keys.publicKey, checkpoint)) return bad(checkpoint.seq, 'checkpoint signature does not verify')
    if (file === checkpointFileName && checkpoint.seq <= lastSeq) return bad(checkpoint.seq, 'checkpoints out of order')
    if (file === checkpointFileName) lastSeq = checkpoint.seq
    const known = expected.get(checkpoint.seq)
    if (known !== undefined && known !== checkpoint.mac) return bad(checkpoint.seq, `two signed checkpoints disagree at seq ${checkpoint.seq}`)
    expected.set(checkpoint.seq, checkpoint.mac)
  }
  return { expected }
}
