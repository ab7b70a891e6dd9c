import { join } from 'node:path'
import type { AuditRecord } from './audit-chain.ts'
import { readFirstLine, readLinesBackward, readLinesForward } from './audit-line-reader.ts'
import { listAuditSegments } from './audit-segments.ts'
import { lineNeedles, matchesAuditFilter, recordTime } from './audit-search.ts'
import type { AuditFilter, AuditSearchPage, AuditSearchQuery, AuditSearchSource } from './audit-search.ts'

export interface FileAuditSearchOptions {
  /** The log directory, `DATA_DIR/audit`. */
  readonly dir: string
  /**
   * Lines one search reads at most before it answers with what it found so far (`has_more`
   * true, and a cursor to go on from). Bounds the time of a rare filter over a long log.
   */
  readonly maxScanLines?: number
  /**
   * How far a record's `timestamp_utc` may lie before the first record of its segment (records are
   * sealed when a request ends, stamped when it began). Segments wholly outside the time window,
   * widened by this, are not read.
   */
  readonly timeSlackMs?: number
}

interface SegmentInfo {
  readonly name: string
  readonly firstSeq: number
  readonly firstTime: number | null
}

interface Positioned {
  readonly pos: number
  readonly line: string
}

const defaultMaxScanLines = 1_000_000
const defaultTimeSlackMs = 3_600_000

/**
 * Searches the segment files themselves: the embedded (SQLite) mode has no other copy. Lines are
 * streamed in 64 KiB chunks, forwards for `asc` and backwards for `desc`, and the search stops
 * once the page is full, so memory is bounded by one page whatever the log's size. Positions are
 * seqs, counted from each segment's first (asc) or last (desc) record; a search is not a
 * verification — `portcullis audit verify` is.
 */
export function createFileAuditSearch (options: FileAuditSearchOptions): AuditSearchSource {
  const { dir } = options
  const maxScan = Math.max(1, options.maxScanLines ?? defaultMaxScanLines)
  const slack = options.timeSlackMs ?? defaultTimeSlackMs
  const cache = new Map<string, SegmentInfo>()

  /** The segments that hold a record, in chain order; the first line of each is read once and cached. */
  async function segments (): Promise<SegmentInfo[]> {
    let listed: Awaited<ReturnType<typeof listAuditSegments>>
    try {
      listed = await listAuditSegments(dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: SegmentInfo[] = []
    for (const { name } of listed) {
      let info = cache.get(name)
      if (info === undefined) {
        const first = parseRecord(await ignoreMissing(readFirstLine(join(dir, name)), null))
        if (first === null) continue
        info = { name, firstSeq: first.seq, firstTime: recordTime(first) }
        cache.set(name, info)
      }
      out.push(info)
    }
    const present = new Set(listed.map((s) => s.name))
    for (const name of cache.keys()) if (!present.has(name)) cache.delete(name)
    return out
  }

  /** False when segment `i` cannot hold a record of the window (see `timeSlackMs`). */
  function mayHoldWindow (list: SegmentInfo[], i: number, filter: AuditFilter): boolean {
    const start = list[i]?.firstTime ?? null
    const nextStart = list[i + 1]?.firstTime ?? null
    if (filter.until !== undefined && start !== null && start - slack >= filter.until) return false
    if (filter.since !== undefined && nextStart !== null && nextStart + slack < filter.since) return false
    return true
  }

  async function * ascending (list: SegmentInfo[], query: AuditSearchQuery): AsyncGenerator<Positioned> {
    const after = query.after ?? 0
    for (const [i, segment] of list.entries()) {
      const next = list[i + 1]
      if ((next !== undefined && next.firstSeq <= after + 1) || !mayHoldWindow(list, i, query)) continue
      let pos = segment.firstSeq - 1
      for await (const line of ignoreMissingLines(readLinesForward(join(dir, segment.name)))) {
        pos++
        if (pos > after) yield { pos, line }
      }
    }
  }

  async function * descending (list: SegmentInfo[], query: AuditSearchQuery): AsyncGenerator<Positioned> {
    const before = query.after ?? Number.POSITIVE_INFINITY
    for (let i = list.length - 1; i >= 0; i--) {
      const segment = list[i] as SegmentInfo
      if (segment.firstSeq >= before || !mayHoldWindow(list, i, query)) continue
      let pos: number | null = null
      for await (const line of ignoreMissingLines(readLinesBackward(join(dir, segment.name)))) {
        // Anchor on the segment's last record: the writer may have appended since the listing.
        pos = pos === null ? (parseRecord(line)?.seq ?? (list[i + 1]?.firstSeq ?? 1) - 1) : pos - 1
        if (pos < before) yield { pos, line }
      }
    }
  }

  async function head (list: SegmentInfo[]): Promise<number> {
    const last = list.at(-1)
    if (last === undefined) return 0
    for await (const line of ignoreMissingLines(readLinesBackward(join(dir, last.name)))) return parseRecord(line)?.seq ?? last.firstSeq
    return last.firstSeq
  }

  return {
    kind: 'files',
    async search (query) {
      const list = await segments()
      const stream = query.order === 'asc' ? ascending(list, query) : descending(list, query)
      const page = await collect(stream, query, maxScan)
      const end = await head(list)
      const follow = page.hasMore && query.order === 'asc' ? (page.next ?? end) : Math.max(end, page.lastPos ?? 0)
      return { records: page.records, hasMore: page.hasMore, next: page.next, follow }
    }
  }
}

type Collected = Omit<AuditSearchPage, 'follow'> & { readonly lastPos: number | null }

/** Reads the stream until the page is full (plus one match, to know `hasMore`) or the scan budget is spent. */
async function collect (stream: AsyncGenerator<Positioned>, query: AuditSearchQuery, maxScan: number): Promise<Collected> {
  const needles = lineNeedles(query)
  const records: AuditRecord[] = []
  let scanned = 0
  let lastPos: number | null = null
  for await (const { pos, line } of stream) {
    if (scanned >= maxScan) return { records, hasMore: true, next: lastPos, lastPos }
    scanned++
    if (needles.every((needle) => line.includes(needle))) {
      const record = parseRecord(line)
      if (record !== null && matchesAuditFilter(record, query)) {
        // The page is full and there is one more: the next page starts after the last line read.
        if (records.length === query.limit) return { records, hasMore: true, next: lastPos, lastPos }
        records.push(record)
      }
    }
    lastPos = pos
  }
  return { records, hasMore: false, next: null, lastPos }
}

/** A line as a record; null for anything that is not a JSON object with a numeric seq (damage is the verifier's business). */
function parseRecord (line: string | null): AuditRecord | null {
  if (line === null) return null
  try {
    const value: unknown = JSON.parse(line)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    return typeof (value as { seq?: unknown }).seq === 'number' ? value as AuditRecord : null
  } catch {
    return null
  }
}

/** Retention may delete a segment between the listing and the read: it then simply has no lines. */
async function * ignoreMissingLines (lines: AsyncGenerator<string>): AsyncGenerator<string> {
  try {
    yield * lines
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

async function ignoreMissing<T> (promise: Promise<T>, fallback: T): Promise<T> {
  try {
    return await promise
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback
    throw err
  }
}
