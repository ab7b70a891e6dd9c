import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Canary } from './canary-search.ts'

/** Returns `plant(name, value, fragment?)`, which adds a canary to `list` and returns the value. */
export function planted (list: Canary[]): (name: string, value: string, fragment?: string) => string {
  return (name, value, fragment) => {
    assert(typeof value === 'string' && value.length >= 16, `canary ${name} is too short to search for`)
    if (!list.some((c) => c.name === name)) list.push(fragment === undefined ? { name, value } : { name, value, fragment })
    return value
  }
}

function assert (ok: boolean, message: string): void {
  if (!ok) throw new Error(message)
}

/** The same credential with one character changed at `index`: a near miss, still secret. */
export function tamper (value: string, index: number): string {
  const c = value[index] ?? 'a'
  return value.slice(0, index) + (c === 'A' ? 'B' : 'A') + value.slice(index + 1)
}

/** Every file under `dir` (recursively) as latin1 text, so binary stores are searched byte for byte. */
export async function dataDirText (dir: string, skip: readonly string[] = []): Promise<Array<{ path: string, text: string }>> {
  const files: Array<{ path: string, text: string }> = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || skip.includes(entry.name)) continue
    const path = join(entry.parentPath, entry.name)
    files.push({ path: relative(dir, path), text: (await readFile(path)).toString('latin1') })
  }
  return files
}
