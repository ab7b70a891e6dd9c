import { sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canonicalJson } from './canonical-json.ts'

/** A statement that the chain had reached `mac` at `seq` by `time` (ISO 8601, UTC). */
export interface Checkpoint {
  readonly seq: number
  readonly mac: string
  readonly time: string
}

/** A checkpoint with its Ed25519 signature (hex) over `checkpointSignedBytes`. */
export interface SignedCheckpoint extends Checkpoint {
  readonly sig: string
}

export const checkpointFileName = 'checkpoints.jsonl'

// Domain separation: these bytes can never be mistaken for anything else the key might sign.
const signedPrefix = 'portcullis/audit-checkpoint/v1\n'
const hexMac = /^[0-9a-f]{64}$/
const hexSig = /^[0-9a-f]{128}$/

/** The exact bytes signed: the prefix, then the canonical JSON of `{ mac, seq, time }`. */
export function checkpointSignedBytes (checkpoint: Checkpoint): Buffer {
  const { seq, mac, time } = checkpoint
  return Buffer.from(signedPrefix + canonicalJson({ seq, mac, time }))
}

export function signCheckpoint (signingKey: KeyObject, checkpoint: Checkpoint): SignedCheckpoint {
  const { seq, mac, time } = checkpoint
  return { seq, mac, time, sig: sign(null, checkpointSignedBytes(checkpoint), signingKey).toString('hex') }
}

export function verifyCheckpoint (publicKey: KeyObject, checkpoint: SignedCheckpoint): boolean {
  return verify(null, checkpointSignedBytes(checkpoint), publicKey, Buffer.from(checkpoint.sig, 'hex'))
}

/** Parses one line of `checkpoints.jsonl`; null when it is not a well-formed checkpoint. */
export function parseCheckpointLine (line: string): SignedCheckpoint | null {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { seq, mac, time, sig } = value as Record<string, unknown>
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return null
  if (typeof mac !== 'string' || !hexMac.test(mac)) return null
  if (typeof time !== 'string' || typeof sig !== 'string' || !hexSig.test(sig)) return null
  return { seq: seq as number, mac, time, sig }
}

/**
 * The checkpoints of a log directory, for export. Lines that do not parse are skipped here;
 * `verifyAuditLog` is the place that judges them.
 */
export async function readCheckpoints (dir: string): Promise<SignedCheckpoint[]> {
  let text: string
  try {
    text = await readFile(join(dir, checkpointFileName), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const result: SignedCheckpoint[] = []
  for (const line of completeLines(text)) {
    const checkpoint = parseCheckpointLine(line)
    if (checkpoint !== null) result.push(checkpoint)
  }
  return result
}

/** The newline-terminated lines of a text; bytes after the last newline are a torn write. */
export function completeLines (text: string): string[] {
  const end = text.lastIndexOf('\n')
  return end < 0 ? [] : text.slice(0, end).split('\n')
}
