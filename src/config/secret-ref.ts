import { readFile } from 'node:fs/promises'
import type { SecretRef } from './config-schema.ts'

/** Where secrets come from; injectable so tests need not touch process.env. */
export interface SecretSource {
  readonly env: NodeJS.ProcessEnv
}

/**
 * Resolves `{ env }` / `{ file }` to the secret's value (a trailing newline is dropped, as
 * files written by `echo` and container secret mounts usually carry one). The error names the
 * reference, never the value.
 */
export async function resolveSecret (ref: SecretRef, source: SecretSource = { env: process.env }): Promise<string> {
  let value: string | undefined
  if ('env' in ref) {
    value = source.env[ref.env]
    if (value === undefined || value === '') throw new Error(`secret reference: environment variable ${ref.env} is not set`)
  } else {
    try {
      value = await readFile(ref.file, 'utf8')
    } catch (err) {
      throw new Error(`secret reference: cannot read file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    value = value.replace(/\r?\n$/, '')
    if (value === '') throw new Error(`secret reference: file ${ref.file} is empty`)
  }
  return value
}
