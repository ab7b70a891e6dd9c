import type { CliIo, Command, CommandArgs } from './command.ts'
import type { ClientJson, DeletedClientJson } from '../admin/client-json.ts'
import { UsageError } from './command.ts'
import { parseDuration } from '../lib/duration.ts'
import {
  adminOptions, adminOptionsHelp, adminRequest, reportFailure, resolveAdminConnection, stringOption, type AdminConnection
} from './admin-client.ts'
import { formatDetails, formatTable, formatTime } from './format-table.ts'

interface ClientList {
  data: ClientJson[]
  has_more: boolean
  next_cursor: string | null
}

type Action = (conn: AdminConnection, args: CommandArgs, io: CliIo) => Promise<void>

/** Builds a clients command: shared options, connection set-up, and one error path (exit 1). */
function clientsCommand (name: string, summary: string, usage: string, options: Command['options'], action: Action): Command {
  return {
    name: `clients ${name}`,
    summary,
    help: `Usage: portcullis clients ${usage}\n\n${summary}\n\nOptions:\n${adminOptionsHelp}`,
    options: { ...adminOptions, ...options },
    async run (args, io) {
      const conn = await resolveAdminConnection(args, io.env)
      try {
        await action(conn, args, io)
        return 0
      } catch (err) {
        return reportFailure(err, io.err, 'admin:clients')
      }
    }
  }
}

function clientIdArg (args: CommandArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('expected exactly one client id (e.g. cli_3kTq9fY2pLmN8xWz)')
  return encodeURIComponent(args.positionals[0] as string)
}

function list (value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/** `--grace-period 3600` (seconds) or `--grace-period 1h`. */
function gracePeriod (args: CommandArgs): number {
  const value = stringOption(args, 'grace-period')
  if (value === undefined) return 0
  if (/^\d{1,12}$/.test(value.trim())) return Number(value.trim())
  try {
    return parseDuration(value)
  } catch (err) {
    throw new UsageError(`--grace-period: ${(err as Error).message}, or whole seconds`)
  }
}

function parseMetadata (text: string | undefined): Record<string, unknown> | undefined {
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

const anyOf = (values: readonly string[] | null, all: string): string => values === null ? all : values.join(',')

function details (c: ClientJson): string[] {
  return formatDetails([
    ['client id', c.client_id], ['name', c.name], ['tenant', c.tenant ?? '-'], ['scopes', c.scopes.join(',') || '-'],
    ['roles', c.roles.join(',') || '-'], ['models', anyOf(c.models, '* (any)')], ['allowed ips', anyOf(c.allowed_ips, 'any address')],
    ['status', c.status], ['created', `${formatTime(c.created_at)} by ${c.created_by ?? '-'}`],
    ['rotated', formatTime(c.rotated_at)], ['old secret until', formatTime(c.previous_secret_expires_at)],
    ['disabled', formatTime(c.disabled_at)], ['tokens revoked', formatTime(c.tokens_revoked_before)],
    ['metadata', c.metadata === null ? '-' : JSON.stringify(c.metadata)]
  ])
}

function printClient (io: CliIo, args: CommandArgs, client: ClientJson, heading: string): void {
  if (args.values.json === true) {
    io.out(JSON.stringify(client, null, 2))
    return
  }
  io.out(heading)
  if (client.client_secret !== undefined) io.out(`\nClient secret (shown once, store it now):\n  ${client.client_secret}\n`)
  for (const line of details(client)) io.out(line)
}

export const clientsCreateCommand = clientsCommand('create', 'Register an OAuth client (client-credentials grant); its secret is printed once.',
  'create --name NAME --scopes chat,embeddings [--roles user] [--tenant T] [--models \'gpt-4o-mini,qwen2.5-*\'] ' +
  '[--allowed-ips 10.0.0.0/8,2001:db8::/32] [--metadata JSON] [--json]\n\n' +
  'Give --scopes, --roles or both; a token for the client carries at most these scopes.',
  {
    name: { type: 'string' }, scopes: { type: 'string' }, roles: { type: 'string' }, tenant: { type: 'string' },
    models: { type: 'string' }, 'allowed-ips': { type: 'string' }, metadata: { type: 'string' }
  },
  async (conn, args, io) => {
    const name = stringOption(args, 'name')
    const scopes = list(stringOption(args, 'scopes'))
    const roles = list(stringOption(args, 'roles'))
    if (name === undefined || (scopes === undefined && roles === undefined)) throw new UsageError('--name and --scopes (or --roles) are required')
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
    const body = {
      name, scopes, roles, tenant: stringOption(args, 'tenant'), models: list(stringOption(args, 'models')),
      allowed_ips: list(stringOption(args, 'allowed-ips')), metadata: parseMetadata(stringOption(args, 'metadata'))
    }
    const client = await adminRequest(conn, 'POST', '/clients', body) as ClientJson
    printClient(io, args, client, `Created ${client.client_id} (${client.name})`)
  })

export const clientsListCommand = clientsCommand('list', 'List OAuth clients, newest first.', 'list [--tenant T] [--json]',
  { tenant: { type: 'string' } },
  async (conn, args, io) => {
    const clients: ClientJson[] = []
    const tenant = stringOption(args, 'tenant')
    let after: string | null = null
    do {
      const query = new URLSearchParams({ limit: '100', ...(after === null ? {} : { after }), ...(tenant === undefined ? {} : { tenant }) })
      const page = await adminRequest(conn, 'GET', `/clients?${query}`) as ClientList
      clients.push(...page.data)
      after = page.has_more ? page.next_cursor : null
    } while (after !== null)
    if (args.values.json === true) {
      io.out(JSON.stringify(clients, null, 2))
      return
    }
    if (clients.length === 0) {
      io.out('No OAuth clients. Register one with `portcullis clients create --name NAME --scopes chat`.')
      return
    }
    const rows = clients.map((c) => [c.client_id, c.name, c.tenant ?? '-', c.scopes.join(',') || '-', c.roles.join(',') || '-',
      c.status, formatTime(c.created_at)])
    for (const line of formatTable(['CLIENT ID', 'NAME', 'TENANT', 'SCOPES', 'ROLES', 'STATUS', 'CREATED'], rows)) io.out(line)
  })

export const clientsGetCommand = clientsCommand('get', 'Show one OAuth client.', 'get ID [--json]', {},
  async (conn, args, io) => {
    const client = await adminRequest(conn, 'GET', `/clients/${clientIdArg(args)}`) as ClientJson
    printClient(io, args, client, `Client ${client.client_id}`)
  })

/** disable, enable, revoke-tokens: a POST without a body to `/clients/:id/<name>`. */
function changeCommand (name: string, summary: string, done: string): Command {
  return clientsCommand(name, summary, `${name} ID [--json]`, {}, async (conn, args, io) => {
    const client = await adminRequest(conn, 'POST', `/clients/${clientIdArg(args)}/${name}`, {}) as ClientJson
    printClient(io, args, client, `${done} ${client.client_id} (${client.name})`)
  })
}

export const clientsDisableCommand = changeCommand('disable', 'Disable an OAuth client: it can no longer obtain tokens.', 'Disabled')
export const clientsEnableCommand = changeCommand('enable', 'Enable a disabled OAuth client again.', 'Enabled')
export const clientsRevokeTokensCommand = changeCommand('revoke-tokens',
  'Revoke every access token issued to an OAuth client so far; it may obtain new ones.', 'Revoked the tokens of')

export const clientsRotateCommand = clientsCommand('rotate',
  'Issue a new client secret; the old one works for --grace-period (seconds or 30s/15m/1h/7d, default 0).',
  'rotate ID [--grace-period SECONDS] [--json]', { 'grace-period': { type: 'string' } },
  async (conn, args, io) => {
    const id = clientIdArg(args)
    const grace = gracePeriod(args)
    const client = await adminRequest(conn, 'POST', `/clients/${id}/rotate`, { grace_period_seconds: grace }) as ClientJson
    const old = grace === 0 ? 'the old secret stops working now' : `the old secret works until ${formatTime(client.previous_secret_expires_at)}`
    printClient(io, args, client, `Rotated ${client.client_id} (${client.name}); ${old}`)
  })

export const clientsDeleteCommand = clientsCommand('delete', 'Delete an OAuth client: it can no longer obtain tokens. Run revoke-tokens first to end the tokens it holds.', 'delete ID [--json]', {},
  async (conn, args, io) => {
    const deleted = await adminRequest(conn, 'DELETE', `/clients/${clientIdArg(args)}`) as DeletedClientJson
    io.out(args.values.json === true ? JSON.stringify(deleted, null, 2) : `Deleted ${deleted.id}`)
  })

/** All clients commands, for src/cli/command-list.ts. */
export const clientsCommands: readonly Command[] = [
  clientsCreateCommand, clientsListCommand, clientsGetCommand, clientsDisableCommand, clientsEnableCommand,
  clientsRotateCommand, clientsRevokeTokensCommand, clientsDeleteCommand
]
