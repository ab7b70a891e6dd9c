/** A sealed record waiting in the writer's queue. */
export interface PendingLine {
  readonly seq: number
  readonly mac: string
  /** The canonical line and its newline; turned into bytes once per batch, not per record. */
  readonly text: string
}

/**
 * The queued records, at most the first `limit`, that fit in `room` bytes (at least one: a record
 * larger than a whole segment gets a segment of its own), as one buffer for one write. All of
 * them are joined first, the common case; lines are measured one by one only when they do not
 * all fit.
 */
export function nextBatch (queue: readonly PendingLine[], limit: number, room: number): { count: number, data: Buffer } {
  const end = Math.min(limit, queue.length)
  let text = ''
  for (let i = 0; i < end; i++) text += (queue[i] as PendingLine).text
  const data = Buffer.from(text)
  if (data.length <= room || end === 1) return { count: end, data }
  let count = 0
  let bytes = 0
  for (let i = 0; i < end; i++) {
    const size = Buffer.byteLength((queue[i] as PendingLine).text)
    if (count > 0 && bytes + size > room) break
    count += 1
    bytes += size
  }
  return { count, data: data.subarray(0, bytes) }
}
