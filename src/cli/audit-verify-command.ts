import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CliIo, Command, CommandArgs } from './command.ts'
import type { SignedCheckpoint } from '../audit/audit-checkpoint.ts'
import { UsageError } from './command.ts'
import { stringOption } from './admin-client.ts'
import { LocalSetupError, loadLocalConfig, loadLocalMasterKey, localOptions, localOptionsHelp, readAnchorsFile } from './audit-local.ts'
import { deriveAuditKeys, auditPublicKeyPem } from '../audit/audit-keys.ts'
import { readCheckpoints, verifyCheckpoint } from '../audit/audit-checkpoint.ts'
import { listAuditSegments } from '../audit/audit-segments.ts'
import { verifyAuditLog } from '../audit/audit-verifier.ts'
import { canonicalJson } from '../audit/canonical-json.ts'

/** Exit codes of `audit verify`: scripts and cron jobs alert on 1. */
export const verifyExit = Object.freeze({ ok: 0, tampered: 1, usage: 2 })

const count = (n: number): string => n.toLocaleString('en-US')

/** Runs a local command; a setup problem (no data dir, no key, unreadable file) is exit 2 with one line. */
async function local (io: CliIo, name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    if (!(err instanceof LocalSetupError)) throw err
    io.err(`portcullis audit ${name}: ${err.message}`)
    return verifyExit.usage
  }
}

/** `--public-key` mode: only the signatures of exported checkpoints, no master key, no log. */
async function verifyAnchorsOnly (args: CommandArgs, io: CliIo, keyFile: string): Promise<number> {
  const anchorsFile = stringOption(args, 'anchors')
  if (anchorsFile === undefined) throw new UsageError('--public-key checks exported checkpoints: pass them with --anchors FILE')
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey(await readFile(keyFile, 'utf8'))
  } catch (err) {
    throw new LocalSetupError(`--public-key: ${keyFile} is not a readable PEM public key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  const anchors = await readAnchorsFile(anchorsFile)
  for (const [i, checkpoint] of anchors.entries()) {
    if (!verifyCheckpoint(publicKey, checkpoint)) {
      io.out(`TAMPERED: ${anchorsFile} line ${i + 1} (seq ${checkpoint.seq}): checkpoint signature does not verify with this public key`)
      return verifyExit.tampered
    }
  }
  const newest = anchors.reduce<SignedCheckpoint | null>((a, c) => a === null || c.seq > a.seq ? c : a, null)
  io.out(`OK: ${count(anchors.length)} checkpoints signed by this key` + (newest === null ? '' : `; the newest covers seq ${newest.seq} (${newest.time})`))
  return verifyExit.ok
}

async function verifyLog (args: CommandArgs, io: CliIo): Promise<number> {
  const { config, auditDir } = loadLocalConfig(args, io)
  const keys = deriveAuditKeys(await loadLocalMasterKey(config, io.env))
  const anchorsFile = stringOption(args, 'anchors')
  const anchors = anchorsFile === undefined ? [] : await readAnchorsFile(anchorsFile)
  const segments = await listAuditSegments(auditDir)
  let bytes = 0
  for (const s of segments) bytes += (await stat(join(auditDir, s.name))).size
  io.err(`Verifying ${auditDir}: ${segments.length} segments, ${(bytes / 1048576).toFixed(1)} MiB${anchors.length > 0 ? `, ${anchors.length} anchors` : ''}…`)
  const started = performance.now()
  const result = await verifyAuditLog(auditDir, keys, { anchors })
  const seconds = (performance.now() - started) / 1000
  if (args.values.json === true) {
    const { ok, records, checkpoints, tornBytes, firstBad } = result
    io.out(JSON.stringify({ ok, records, checkpoints, torn_bytes: tornBytes, first_bad: firstBad ?? null, seconds: Number(seconds.toFixed(3)) }))
    return result.ok ? verifyExit.ok : verifyExit.tampered
  }
  const rate = `${count(Math.round(result.records / Math.max(seconds, 1e-6)))} records/s`
  if (result.ok) {
    io.out(`OK: ${count(result.records)} records (last seq ${result.records}), ${count(result.checkpoints)} signed checkpoints, in ${seconds.toFixed(2)} s (${rate})`)
    if (result.tornBytes > 0) io.out(`note: the last segment ends with an incomplete line of ${result.tornBytes} bytes (a crash; the writer cuts it off when it starts)`)
    return verifyExit.ok
  }
  const bad = result.firstBad
  io.out(`TAMPERED: the first bad record is in ${bad?.segment ?? '?'}, line ${bad?.line ?? '?'}, seq ${bad?.seq ?? '?'}: ${bad?.reason ?? 'unknown'}`)
  io.out(`${count(result.records)} records verified before it (last good seq ${result.records}), in ${seconds.toFixed(2)} s (${rate})`)
  return verifyExit.tampered
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'Check the audit log\'s chain and signed checkpoints (exit 0 intact, 1 tampered, 2 usage)',
  help: `Usage: portcullis audit verify [--data-dir DIR] [--config FILE] [--anchors FILE] [--json]
       portcullis audit verify --public-key PEM_FILE --anchors FILE

Reads DATA_DIR/audit on this machine (the gateway may be running) and checks every record:
segments without gaps, seq, prev, mac (with the key derived from the master key), canonical
form, every checkpoint's signature, and that no signed checkpoint lies beyond the end of the log.
Prints the count, the last seq and the speed; for a damaged log, the first bad record (segment
file, line, seq) and why. Exit code 0: intact; 1: tampered or damaged; 2: usage or setup error
(no audit log, no master key).

The master key is found as \`start\` finds it: master_key / PORTCULLIS_MASTER_KEY, else
DATA_DIR/master.key. A missing key is an error (verify never creates one).

Options:
${localOptionsHelp}
  --anchors FILE          Checkpoints kept elsewhere (from \`audit checkpoints\`): a log cut
                          before one of them fails, even if its own checkpoints were cut too
  --public-key PEM_FILE   Only check that the --anchors checkpoints are signed by this key
                          (from \`audit checkpoints --public-key-out\`); needs no master key
  --json                  Print the result as one JSON object
  -h, --help              This help`,
  options: { ...localOptions, anchors: { type: 'string' }, 'public-key': { type: 'string' }, json: { type: 'boolean', default: false } },
  async run (args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
    const keyFile = stringOption(args, 'public-key')
    return await local(io, 'verify', () => keyFile === undefined ? verifyLog(args, io) : verifyAnchorsOnly(args, io, keyFile))
  }
}

export const auditCheckpointsCommand: Command = {
  name: 'audit checkpoints',
  summary: 'Export the signed checkpoints (and the public key) to keep off this host',
  help: `Usage: portcullis audit checkpoints [--data-dir DIR] [--config FILE] [--out FILE] [--public-key-out PEM_FILE]

Copies DATA_DIR/audit/checkpoints.jsonl (one signed checkpoint a line) to stdout or --out.
Keep the copy where the gateway host cannot rewrite it (another machine, WORM storage) and pass
it back to \`audit verify --anchors FILE\`: records cut from the end of the log, together with
the checkpoints that covered them, are then still detected. --public-key-out also writes the
Ed25519 public key (PEM), with which anyone can check the checkpoints' signatures without the
master key.

Options:
${localOptionsHelp}
  --out FILE              Write the checkpoints here (0600) instead of stdout
  --public-key-out FILE   Write the checkpoint public key (PEM) here; needs the master key
  -h, --help              This help`,
  options: { ...localOptions, out: { type: 'string' }, 'public-key-out': { type: 'string' } },
  async run (args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
    return await local(io, 'checkpoints', async () => {
      const { config, auditDir } = loadLocalConfig(args, io)
      const checkpoints = await readCheckpoints(auditDir)
      const text = checkpoints.map((c) => canonicalJson({ ...c }) + '\n').join('')
      const out = stringOption(args, 'out')
      if (out === undefined) io.out(text.trimEnd())
      else await writeFile(out, text, { mode: 0o600 })
      const keyOut = stringOption(args, 'public-key-out')
      if (keyOut !== undefined) {
        await writeFile(keyOut, auditPublicKeyPem(deriveAuditKeys(await loadLocalMasterKey(config, io.env))))
        io.err(`wrote the checkpoint public key to ${keyOut}`)
      }
      io.err(`${checkpoints.length} checkpoints${out === undefined ? '' : ` written to ${out}`}; the newest covers seq ${checkpoints.at(-1)?.seq ?? 0}`)
      return 0
    })
  }
}
