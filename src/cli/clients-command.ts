import type { CliIo, Command, CommandArgs } from './command.ts'
import type { ClientJson, DeletedClientJson } from '../admin/client-json.ts'
import { UsageError } from './command.ts'
import { parseDuration } from '../lib/duration.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand, credentialFields, credentialOptions, fetchAllPages, type AdminAction } from './admin-command.ts'
import { formatDetails, formatTable, formatTime } from './format-table.ts'

/** Builds a clients command (see admin-command.ts). */
function clientsCommand (name: string, summary: string, usage: string, options: Command['options'], action: AdminAction): Command {
  return adminCommand('clients', 'admin:clients', name, summary, usage, options, action)
}

function clientIdArg (args: CommandArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('expected exactly one client id (e.g. cli_3kTq9fY2pLmN8xWz)')
  return encodeURIComponent(args.positionals[0] as string)
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
  credentialOptions,
  async (conn, args, io) => {
    const client = await adminRequest(conn, 'POST', '/clients', credentialFields(args)) as ClientJson
    printClient(io, args, client, `Created ${client.client_id} (${client.name})`)
  })

export const clientsListCommand = clientsCommand('list', 'List OAuth clients, newest first.', 'list [--tenant T] [--json]',
  { tenant: { type: 'string' } },
  async (conn, args, io) => {
    const clients = await fetchAllPages<ClientJson>(conn, '/clients', stringOption(args, 'tenant'))
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
