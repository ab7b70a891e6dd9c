import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

/** An append-only file that never leaves a half-written line in the middle. */
export interface DurableAppendFile {
  readonly path: string
  /** Bytes known to be written completely. */
  size (): number
  /** Writes at the end; after a failed write, first cuts the file back to `size()`. */
  append (data: Buffer): Promise<void>
  sync (): Promise<void>
  close (): Promise<void>
}

export interface OpenedAppendFile {
  readonly file: DurableAppendFile
  /** Bytes after the last newline that were cut off: a write torn by a crash. */
  readonly tornBytes: number
}

// Enough to hold any record line; a torn tail longer than this is still found, chunk by chunk.
const tailChunk = 64 * 1024

/**
 * Opens (creating 0600 if needed) a file of newline-terminated lines and cuts off a torn final
 * line. `exclusive` refuses an existing file, for a new segment that must not reuse an old name.
 */
export async function openDurableAppendFile (path: string, exclusive = false): Promise<OpenedAppendFile> {
  const flags = constants.O_WRONLY | constants.O_CREAT | (exclusive ? constants.O_EXCL : 0)
  const handle = await open(path, flags, 0o600)
  try {
    const info = await handle.stat()
    if ((info.mode & 0o077) !== 0) await handle.chmod(0o600)
    const complete = await completeLength(path, info.size)
    if (complete < info.size) {
      await handle.truncate(complete)
      await handle.sync()
    }
    return { file: wrap(path, handle, complete), tornBytes: info.size - complete }
  } catch (err) {
    await handle.close()
    throw err
  }
}

function wrap (path: string, handle: FileHandle, initialSize: number): DurableAppendFile {
  let committed = initialSize
  let dirty = false
  return {
    path,
    size: () => committed,
    async append (data) {
      if (dirty) await handle.truncate(committed)
      dirty = true
      let done = 0
      // Positional writes: a retry after a partial write starts again at the committed end.
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, committed + done)
        done += bytesWritten
      }
      committed += data.length
      dirty = false
    },
    sync: () => handle.sync(),
    close: () => handle.close()
  }
}

/** Length of the file up to and including its last newline (0 when there is none). */
async function completeLength (path: string, size: number): Promise<number> {
  const reader = await open(path, 'r')
  try {
    let end = size
    while (end > 0) {
      const start = Math.max(0, end - tailChunk)
      const buffer = Buffer.alloc(end - start)
      await reader.read(buffer, 0, buffer.length, start)
      const newline = buffer.lastIndexOf(0x0a)
      if (newline >= 0) return start + newline + 1
      end = start
    }
    return 0
  } finally {
    await reader.close()
  }
}

/** The last newline-terminated line of a file, or null when it has none. */
export async function readLastLine (path: string): Promise<string | null> {
  const reader = await open(path, 'r')
  try {
    const { size } = await reader.stat()
    let start = size
    let tail = Buffer.alloc(0)
    while (start > 0) {
      start = Math.max(0, start - tailChunk)
      const chunk = Buffer.alloc(Math.min(tailChunk, size - start - tail.length))
      await reader.read(chunk, 0, chunk.length, start)
      tail = Buffer.concat([chunk, tail])
      const lines = tail.toString('utf8').split('\n')
      // lines: [maybe-partial, ..., complete lines ..., torn-or-empty]
      if (lines.length >= 3 || (start === 0 && lines.length >= 2)) return lines[lines.length - 2] ?? null
    }
    return null
  } finally {
    await reader.close()
  }
}
