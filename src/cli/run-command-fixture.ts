import { parseCommandArgs, UsageError, type Command } from './command.ts'

export interface CommandRun {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** Test support: runs a command as the dispatcher would (parse, run, usage errors → 2), capturing output. */
export async function runCommand (command: Command, argv: string[], env: NodeJS.ProcessEnv): Promise<CommandRun> {
  const out: string[] = []
  const err: string[] = []
  let code: number
  try {
    code = await command.run(parseCommandArgs(command, argv), { out: (l) => { out.push(l) }, err: (l) => { err.push(l) }, env })
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    err.push(e.message)
    code = 2
  }
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** Starts `app` on a free loopback port: the environment a CLI command needs to reach it as `adminKey`. */
export async function listeningAdminEnv (app: { listen (options: { host: string, port: number }): Promise<string> }, adminKey: string): Promise<NodeJS.ProcessEnv> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { PORTCULLIS_URL: url, PORTCULLIS_ADMIN_KEY: adminKey }
}
