import { parseCommandArgs, UsageError, type CliIo, type Command } from './command.ts'
import { commands } from './command-list.ts'

const defaultIo: CliIo = {
  out: (line) => { process.stdout.write(line + '\n') },
  err: (line) => { process.stderr.write(line + '\n') },
  env: process.env
}

function usage (): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'Usage: portcullis <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `portcullis <command> --help` for the options of one command.'
  ].join('\n')
}

/** Finds the longest command name that prefixes argv (`keys create` before `keys`). */
function findCommand (argv: string[]): { command: Command, rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ')
    const command = commands.find((c) => c.name === name)
    if (command !== undefined) return { command, rest: argv.slice(words) }
  }
  return null
}

export async function runCli (argv: string[], io: CliIo = defaultIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const target = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)) : null
    io.out(target === null ? usage() : target.command.help)
    return 0
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    const pkg = await import('../../package.json', { with: { type: 'json' } })
    io.out(pkg.default.version)
    return 0
  }
  const found = findCommand(argv)
  if (found === null) {
    io.err(`portcullis: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`)
    return 2
  }
  const { command, rest } = found
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help)
    return 0
  }
  try {
    return await command.run(parseCommandArgs(command, rest), io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`portcullis ${command.name}: ${err.message}\n\n${command.help}`)
      return 2
    }
    throw err
  }
}
