/** A sealed record waiting in the writer's queue. */
export interface PendingLine {
  readonly seq: number
  readonly mac: string
  /** The canonical line and its newline; turned into bytes once per batch, not per record. */
  readonly text: string
}

/**
 * The first queued records that fit in `room` bytes (at least one: a record larger than a whole
 * segment gets a segment of its own), as one buffer for one write. All of them are joined first,
 * the common case; lines are measured one by one only when they do not all fit.
 */
export function nextBatch (queue: readonly PendingLine[], room: number): { count: number, data: Buffer } {
  let text = ''
  for (const item of queue) text += item.text
  const data = Buffer.from(text)
  if (data.length <= room || queue.length === 1) return { count: queue.length, data }
  let count = 0
  let bytes = 0
  for (const item of queue) {
    const size = Buffer.byteLength(item.text)
    if (count > 0 && bytes + size > room) break
    count += 1
    bytes += size
  }
  return { count, data: data.subarray(0, bytes) }
}
