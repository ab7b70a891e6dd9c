import { readdir } from 'node:fs/promises'

/** One segment file of a log directory; `number` starts at 1 and has no gaps in an intact log. */
export interface AuditSegment {
  readonly number: number
  readonly name: string
}

const segmentPattern = /^audit-(\d{6,})\.jsonl$/

/** `audit-000001.jsonl`: zero-padded so that a directory listing sorts in chain order. */
export function segmentName (number: number): string {
  return `audit-${String(number).padStart(6, '0')}.jsonl`
}

/** The segments of a directory in chain order (by number, not by name). */
export async function listAuditSegments (dir: string): Promise<AuditSegment[]> {
  const segments: AuditSegment[] = []
  for (const name of await readdir(dir)) {
    const match = segmentPattern.exec(name)
    if (match?.[1] !== undefined) segments.push({ number: Number(match[1]), name })
  }
  return segments.sort((a, b) => a.number - b.number)
}
