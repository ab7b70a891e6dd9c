import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const masterKeyFile = 'master.key'
// Standard base64 of exactly 32 bytes: 43 characters and one padding `=`.
const base64Of32Bytes = /^[A-Za-z0-9+/]{43}=$/

/** Creates the data directory 0700, and narrows an existing one that group or others can read. */
export async function ensureDataDir (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const info = await stat(dir)
  if (!info.isDirectory()) throw new Error(`data dir ${dir} is not a directory`)
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700)
}

export interface LoadMasterKeyOptions {
  readonly dataDir: string
  /** Base64 from `PORTCULLIS_MASTER_KEY` or a secret reference; null = use `DATA_DIR/master.key`. */
  readonly value: string | null
}

/**
 * Returns the 32-byte master key every other key is derived from. Errors say what is wrong
 * with the value, never the value itself.
 */
export async function loadMasterKey (options: LoadMasterKeyOptions): Promise<Buffer> {
  if (options.value !== null) return decodeMasterKey(options.value, 'the configured master key')
  const path = join(options.dataDir, masterKeyFile)
  const existing = await readKeyFile(path)
  if (existing !== null) return existing
  const encoded = randomBytes(32).toString('base64')
  try {
    // 'wx': never overwrite a key another process created a moment ago (lose it = lose every key).
    await writeFile(path, encoded + '\n', { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const raced = await readKeyFile(path)
    if (raced !== null) return raced
  }
  return decodeMasterKey(encoded, path)
}

async function readKeyFile (path: string): Promise<Buffer | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new Error(`cannot read the master key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  const info = await stat(path)
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o600)
  return decodeMasterKey(text, path)
}

function decodeMasterKey (text: string, source: string): Buffer {
  const trimmed = text.trim()
  if (!base64Of32Bytes.test(trimmed)) {
    throw new Error(`${source} is not valid: expected standard base64 of exactly 32 bytes (generate one with \`openssl rand -base64 32\`)`)
  }
  return Buffer.from(trimmed, 'base64')
}
