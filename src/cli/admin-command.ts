import type { CliIo, Command, CommandArgs } from './command.ts'
import { UsageError } from './command.ts'
import { parseDuration } from '../lib/duration.ts'
import { adminOptions, adminOptionsHelp, adminRequest, reportFailure, resolveAdminConnection, stringOption, type AdminConnection } from './admin-client.ts'

export type AdminAction = (conn: AdminConnection, args: CommandArgs, io: CliIo) => Promise<void>

/**
 * Builds one `portcullis <group> <name>` command that talks to the admin API: the shared
 * connection options, one error path (exit 1, with a hint naming the admin `scope` it needs).
 */
export function adminCommand (
  group: string, scope: string, name: string, summary: string, usage: string, options: Command['options'], action: AdminAction
): Command {
  return {
    name: `${group} ${name}`,
    summary,
    help: `Usage: portcullis ${group} ${usage}\n\n${summary}\n\nOptions:\n${adminOptionsHelp}`,
    options: { ...adminOptions, ...options },
    async run (args, io) {
      const conn = await resolveAdminConnection(args, io.env)
      try {
        await action(conn, args, io)
        return 0
      } catch (err) {
        return reportFailure(err, io.err, scope)
      }
    }
  }
}

/** `--scopes a,b, c` → ['a', 'b', 'c']; absent → undefined. */
export function listOption (args: CommandArgs, name: string): string[] | undefined {
  const value = stringOption(args, name)
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/** `--ttl 24h` → seconds; absent → undefined. */
export function durationOption (args: CommandArgs, name: string): number | undefined {
  const value = stringOption(args, name)
  if (value === undefined) return undefined
  try {
    return parseDuration(value)
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`)
  }
}

/** `--metadata '{"team":"ml"}'` → the object; anything but a JSON object is a usage error. */
export function metadataOption (args: CommandArgs): Record<string, unknown> | undefined {
  const text = stringOption(args, 'metadata')
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError('--metadata must be a JSON object, e.g. \'{"team":"ml"}\'')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--metadata must be a JSON object')
  return value as Record<string, unknown>
}

interface Page<T> {
  data: T[]
  has_more: boolean
  next_cursor: string | null
}

/** Every item of a paged admin list (`GET path?limit=100&after=…&tenant=…`), following the cursor. */
export async function fetchAllPages<T> (conn: AdminConnection, path: string, tenant: string | undefined): Promise<T[]> {
  const items: T[] = []
  let after: string | null = null
  do {
    const query = new URLSearchParams({ limit: '100', ...(after === null ? {} : { after }), ...(tenant === undefined ? {} : { tenant }) })
    const page = await adminRequest(conn, 'GET', `${path}?${query}`) as Page<T>
    items.push(...page.data)
    after = page.has_more ? page.next_cursor : null
  } while (after !== null)
  return items
}

/** Options every credential (API key, OAuth client) is created with. */
export const credentialOptions: Command['options'] = {
  name: { type: 'string' }, scopes: { type: 'string' }, roles: { type: 'string' }, tenant: { type: 'string' },
  models: { type: 'string' }, 'allowed-ips': { type: 'string' }, metadata: { type: 'string' }
}

/** The admin API body fields of a new key or client, from `credentialOptions`; usage errors for what is missing. */
export function credentialFields (args: CommandArgs): Record<string, unknown> {
  const name = stringOption(args, 'name')
  const scopes = listOption(args, 'scopes')
  const roles = listOption(args, 'roles')
  if (name === undefined || (scopes === undefined && roles === undefined)) throw new UsageError('--name and --scopes (or --roles) are required')
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
  return {
    name, scopes, roles, tenant: stringOption(args, 'tenant'), models: listOption(args, 'models'),
    allowed_ips: listOption(args, 'allowed-ips'), metadata: metadataOption(args)
  }
}
