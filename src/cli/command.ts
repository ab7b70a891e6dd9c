import { parseArgs, type ParseArgsConfig } from 'node:util'

/** One CLI command. `run` returns the process exit code. */
export interface Command {
  /** e.g. `keys create` */
  readonly name: string
  readonly summary: string
  /** Full help text printed by `portcullis help <name>` and `<name> --help`. */
  readonly help: string
  readonly options: NonNullable<ParseArgsConfig['options']>
  run (args: CommandArgs, io: CliIo): Promise<number>
}

export interface CommandArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>
  readonly positionals: string[]
}

/** Output streams, injectable for tests. */
export interface CliIo {
  out (line: string): void
  err (line: string): void
  readonly env: NodeJS.ProcessEnv
}

/** Thrown for bad usage; the dispatcher prints the message and the command's help, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export function parseCommandArgs (command: Command, argv: string[]): CommandArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true })
    return { values: values as CommandArgs['values'], positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}
