import type { CliIo, Command, CommandArgs } from './command.ts'
import type { SigningKeyJson, SigningKeyListJson } from '../admin/signing-keys-routes.ts'
import { UsageError } from './command.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand, type AdminAction } from './admin-command.ts'
import { formatTable, formatTime } from './format-table.ts'

const algorithms = ['EdDSA', 'ES256']

/** Builds a signing-keys command (see admin-command.ts); none takes a positional argument. */
function signingKeysCommand (name: string, summary: string, usage: string, options: Command['options'], action: AdminAction): Command {
  return adminCommand('signing-keys', 'admin:config', name, summary, usage, options, async (conn, args, io) => {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
    await action(conn, args, io)
  })
}

function print (io: CliIo, args: CommandArgs, keys: readonly SigningKeyJson[]): void {
  if (args.values.json === true) {
    io.out(JSON.stringify(keys, null, 2))
    return
  }
  const rows = keys.map((k) => [k.kid, k.alg, k.status, formatTime(k.created_at), formatTime(k.retired_at), formatTime(k.retire_after)])
  for (const line of formatTable(['KID', 'ALG', 'STATUS', 'CREATED', 'RETIRED', 'RETIRE AFTER'], rows)) io.out(line)
}

export const signingKeysListCommand = signingKeysCommand('list',
  'List the access-token signing keys: the current one and those still verifying earlier tokens.',
  'list [--json]', {},
  async (conn, args, io) => {
    const list = await adminRequest(conn, 'GET', '/signing-keys') as SigningKeyListJson
    print(io, args, list.data)
  })

export const signingKeysRotateCommand = signingKeysCommand('rotate',
  'Make a new current signing key; the old one keeps verifying until its tokens have expired.',
  'rotate [--algorithm EdDSA|ES256] [--json]\n\n' +
  'Default algorithm: the gateway\'s oauth.signing_algorithm. Other gateway instances sharing the\n' +
  'store pick the new key up when they reload their keys.',
  { algorithm: { type: 'string' } },
  async (conn, args, io) => {
    const algorithm = stringOption(args, 'algorithm')
    if (algorithm !== undefined && !algorithms.includes(algorithm)) throw new UsageError(`--algorithm must be one of ${algorithms.join(', ')}`)
    const list = await adminRequest(conn, 'POST', '/signing-keys/rotate', algorithm === undefined ? {} : { algorithm }) as SigningKeyListJson
    if (args.values.json !== true) {
      const [current, ...retiring] = list.data
      io.out(`Rotated: ${current?.kid ?? '-'} (${current?.alg ?? '-'}) signs new tokens.`)
      for (const k of retiring) io.out(`${k.kid} keeps verifying until ${formatTime(k.retire_after)}.`)
      io.out('')
    }
    print(io, args, list.data)
  })

/** All signing-keys commands, for src/cli/command-list.ts. */
export const signingKeysCommands: readonly Command[] = [signingKeysListCommand, signingKeysRotateCommand]
