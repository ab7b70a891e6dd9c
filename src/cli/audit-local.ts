import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config/config-schema.ts'
import type { CliIo, CommandArgs } from './command.ts'
import type { SignedCheckpoint } from '../audit/audit-checkpoint.ts'
import { loadConfig } from '../config/load-config.ts'
import { resolveSecret } from '../config/secret-ref.ts'
import { loadMasterKey } from '../crypto/master-key.ts'
import { parseCheckpointLine } from '../audit/audit-checkpoint.ts'
import { stringOption } from './admin-client.ts'

/** A local problem that is the caller's to fix (no data dir, no master key): exit 2 with this message. */
export class LocalSetupError extends Error {
  override name = 'LocalSetupError'
}

/** Options of the commands that read the data directory itself. */
export const localOptions = Object.freeze({
  'data-dir': { type: 'string' },
  config: { type: 'string' }
} as const)

export const localOptionsHelp = [
  '  --data-dir DIR          Data directory (default ./data; env PORTCULLIS_DATA_DIR), as for `start`',
  '  --config FILE           Config file, as for `start` (for data_dir and master_key)'
].join('\n')

/** The config as `start` would load it (file, environment, --data-dir), and the audit directory in it. */
export function loadLocalConfig (args: CommandArgs, io: CliIo): { config: Readonly<Config>, auditDir: string } {
  let config: Readonly<Config>
  try {
    ({ config } = loadConfig({
      flags: { config: stringOption(args, 'config'), dataDir: stringOption(args, 'data-dir') },
      // The real CLI also loads .env, as `start` does; tests pass their own environment.
      ...(io.env === process.env ? {} : { env: io.env })
    }))
  } catch (err) {
    throw new LocalSetupError((err as Error).message)
  }
  const auditDir = join(config.data_dir, 'audit')
  if (!existsSync(auditDir)) throw new LocalSetupError(`no audit log in ${auditDir} (wrong --data-dir?)`)
  return { config, auditDir }
}

/**
 * The master key, resolved like `start` does (`master_key` / PORTCULLIS_MASTER_KEY, else
 * DATA_DIR/master.key) — except that a missing key is an error here, never a new key.
 */
export async function loadLocalMasterKey (config: Readonly<Config>, env: NodeJS.ProcessEnv): Promise<Buffer> {
  try {
    if (config.master_key !== undefined) return await loadMasterKey({ dataDir: config.data_dir, value: await resolveSecret(config.master_key, { env }) })
    if (!existsSync(join(config.data_dir, 'master.key'))) {
      throw new Error(`no master key: ${join(config.data_dir, 'master.key')} does not exist and PORTCULLIS_MASTER_KEY is not set`)
    }
    return await loadMasterKey({ dataDir: config.data_dir, value: null })
  } catch (err) {
    throw new LocalSetupError((err as Error).message)
  }
}

/** Checkpoints from a file of JSON lines (a copy of `checkpoints.jsonl`, from `audit checkpoints`). */
export async function readAnchorsFile (path: string): Promise<SignedCheckpoint[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new LocalSetupError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  const anchors: SignedCheckpoint[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    const checkpoint = parseCheckpointLine(line)
    if (checkpoint === null) throw new LocalSetupError(`${path} line ${i + 1} is not a signed checkpoint`)
    anchors.push(checkpoint)
  }
  return anchors
}
