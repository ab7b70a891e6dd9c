import { readFile } from 'node:fs/promises'
import type { CommandArgs } from './command.ts'
import { UsageError } from './command.ts'
import { errorCatalogue } from '../errors/error-catalogue.ts'

/** Options every admin command accepts. */
export const adminOptions = Object.freeze({
  url: { type: 'string' },
  'admin-key-file': { type: 'string' },
  json: { type: 'boolean', default: false }
} as const)

export const adminOptionsHelp = [
  '  --url URL               Gateway address (default: env PORTCULLIS_URL, else http://127.0.0.1:8080)',
  '  --admin-key-file PATH   Read the admin key from a file (default: env PORTCULLIS_ADMIN_KEY)',
  '  --json                  Print JSON for scripts instead of a table'
].join('\n')

export interface AdminConnection {
  readonly url: string
  readonly adminKey: string
}

/** A non-2xx answer from the admin API, with the catalogue code. */
export class AdminApiError extends Error {
  override name = 'AdminApiError'
  readonly status: number
  readonly code: string
  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** The gateway could not be reached at all. */
export class GatewayUnreachableError extends Error {
  override name = 'GatewayUnreachableError'
}

export async function resolveAdminConnection (args: CommandArgs, env: NodeJS.ProcessEnv): Promise<AdminConnection> {
  const raw = stringOption(args, 'url') ?? env.PORTCULLIS_URL ?? 'http://127.0.0.1:8080'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--url: "${raw}" is not a URL (e.g. http://127.0.0.1:8080)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must start with http:// or https://')
  const file = stringOption(args, 'admin-key-file')
  let adminKey = env.PORTCULLIS_ADMIN_KEY
  if (file !== undefined) {
    try {
      adminKey = (await readFile(file, 'utf8')).trim()
    } catch (err) {
      throw new UsageError(`--admin-key-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (adminKey === undefined || adminKey.trim() === '') {
    throw new UsageError('no admin key: set PORTCULLIS_ADMIN_KEY or pass --admin-key-file PATH')
  }
  return { url: url.href.replace(/\/+$/, ''), adminKey: adminKey.trim() }
}

export function stringOption (args: CommandArgs, name: string): string | undefined {
  const value = args.values[name]
  return typeof value === 'string' ? value : undefined
}

/** Calls the admin API; resolves to the JSON body of a 2xx answer. */
export async function adminRequest (conn: AdminConnection, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(conn.url + '/admin/v1' + path, {
      method,
      headers: { authorization: `Bearer ${conn.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000)
    })
  } catch {
    throw new GatewayUnreachableError(`cannot reach the gateway at ${conn.url} — is it running? start it with \`npm start\``)
  }
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new AdminApiError(response.status, 'unexpected_response', `unexpected ${response.status} answer from ${conn.url} (not JSON) — is this a Portcullis gateway?`)
  }
  if (response.ok) return json
  const error = (json as { error?: { code?: unknown, message?: unknown } } | null)?.error
  throw new AdminApiError(response.status, String(error?.code ?? 'unknown_error'), String(error?.message ?? 'no message'))
}

/** Turns a failure into one line for the terminal; returns exit code 1. */
/** Prints an admin API failure with a hint; `scope` names the admin scope the command needs. */
export function reportFailure (err: unknown, printError: (line: string) => void, scope = 'admin:keys'): number {
  if (err instanceof GatewayUnreachableError) {
    printError(`portcullis: ${err.message}`)
    return 1
  }
  if (!(err instanceof AdminApiError)) throw err
  const hint = err.status === 401
    ? ' (check PORTCULLIS_ADMIN_KEY or --admin-key-file)'
    : err.status === 403 && err.message === errorCatalogue.insufficient_scope.message ? ` (the admin key needs the admin or ${scope} scope)` : ''
  printError(`portcullis: ${err.status} ${err.code}: ${err.message}${hint}`)
  return 1
}
