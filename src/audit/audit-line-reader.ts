import { open } from 'node:fs/promises'

const chunkBytes = 64 * 1024
const newline = 0x0a

/**
 * Longest line a search will hold in memory. The writer never produces one this long (the
 * metadata header is capped at 16 KiB); a longer line is damage, skipped rather than buffered.
 */
export const maxLineBytes = 8 * 1024 * 1024

/**
 * The complete lines of a file, first to last, read in 64 KiB chunks: memory stays bounded by one
 * chunk plus one line whatever the segment's size. Bytes after the last newline (a write in
 * progress, or torn by a crash) are not a line yet and are not returned.
 */
export async function * readLinesForward (path: string, start = 0): AsyncGenerator<string> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(chunkBytes)
    let pieces: Buffer[] = []
    let held = 0
    let position = start
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, chunkBytes, position)
      if (bytesRead === 0) return
      position += bytesRead
      let from = 0
      let end = buffer.indexOf(newline, 0)
      while (end >= 0 && end < bytesRead) {
        pieces.push(buffer.subarray(from, end))
        if (held + end - from <= maxLineBytes) yield Buffer.concat(pieces).toString('utf8')
        pieces = []
        held = 0
        from = end + 1
        end = buffer.indexOf(newline, from)
      }
      if (from < bytesRead && held <= maxLineBytes) {
        // Copy: `buffer` is reused by the next read.
        pieces.push(Buffer.from(buffer.subarray(from, bytesRead)))
      }
      held += bytesRead - from
    }
  } finally {
    await file.close()
  }
}

/**
 * The complete lines of a file, last to first, read backwards in 64 KiB chunks (the newest
 * records of a segment without reading the older ones). An incomplete final line is skipped.
 */
export async function * readLinesBackward (path: string): AsyncGenerator<string> {
  const file = await open(path, 'r')
  try {
    let position = (await file.stat()).size
    let tail: Buffer = Buffer.alloc(0)
    let oversize = false
    let sawNewline = false
    while (position > 0) {
      const size = Math.min(chunkBytes, position)
      position -= size
      const chunk = Buffer.alloc(size)
      await file.read(chunk, 0, size, position)
      let end = chunk.length
      if (!sawNewline) {
        // Everything after the file's last newline is a line still being written: drop it.
        const last = chunk.lastIndexOf(newline)
        if (last < 0) continue
        sawNewline = true
        end = last
      }
      let cut = end > 0 ? chunk.lastIndexOf(newline, end - 1) : -1
      while (cut >= 0) {
        const line = Buffer.concat([chunk.subarray(cut + 1, end), tail])
        if (!oversize && line.length <= maxLineBytes) yield line.toString('utf8')
        tail = Buffer.alloc(0)
        oversize = false
        end = cut
        cut = end > 0 ? chunk.lastIndexOf(newline, end - 1) : -1
      }
      if (!oversize) tail = Buffer.concat([chunk.subarray(0, end), tail])
      if (tail.length > maxLineBytes) {
        oversize = true
        tail = Buffer.alloc(0)
      }
    }
    if (sawNewline && !oversize) yield tail.toString('utf8')
  } finally {
    await file.close()
  }
}

/** The first complete line of a file, or null when it has none yet. */
export async function readFirstLine (path: string): Promise<string | null> {
  for await (const line of readLinesForward(path)) return line
  return null
}
