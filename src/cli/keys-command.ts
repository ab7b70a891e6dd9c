import type { CliIo, Command, CommandArgs } from './command.ts'
import type { KeyJson } from '../admin/key-json.ts'
import { UsageError } from './command.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand, credentialFields, credentialOptions, durationOption, fetchAllPages, type AdminAction } from './admin-command.ts'
import { formatDetails, formatTable, formatTime } from './format-table.ts'
import { allScopes } from '../auth/scopes.ts'

/** Builds a keys command (see admin-command.ts). */
function keysCommand (name: string, summary: string, usage: string, options: Command['options'], action: AdminAction): Command {
  return adminCommand('keys', 'admin:keys', name, summary, usage, options, action)
}

function keyIdArg (args: CommandArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('expected exactly one key id (e.g. key_3kTq9fY2pLmN8xWz)')
  return encodeURIComponent(args.positionals[0] as string)
}

function details (key: KeyJson): string[] {
  return formatDetails([
    ['id', key.id], ['name', key.name], ['tenant', key.tenant ?? '-'], ['scopes', key.scopes.join(',') || '-'],
    ['roles', key.roles.join(',') || '-'], ['models', key.models === null ? '* (any)' : key.models.join(',')],
    ['allowed IPs', key.allowed_ips === null ? '* (any)' : key.allowed_ips.join(',')], ['status', key.status],
    ['last four', key.last_four], ['created', `${formatTime(key.created_at)} by ${key.created_by ?? '-'}`],
    ['last used', formatTime(key.last_used_at)], ['expires', formatTime(key.expires_at)],
    ['revoked', formatTime(key.revoked_at)], ['rotated', formatTime(key.rotated_at)],
    ['metadata', key.metadata === null ? '-' : JSON.stringify(key.metadata)]
  ])
}

function printKey (io: CliIo, args: CommandArgs, key: KeyJson, heading: string): void {
  if (args.values.json === true) {
    io.out(JSON.stringify(key, null, 2))
    return
  }
  io.out(heading)
  if (key.secret !== undefined) io.out(`\nSecret (shown once, store it now):\n  ${key.secret}\n`)
  for (const line of details(key)) io.out(line)
}

export const keysCreateCommand = keysCommand('create', 'Create an API key; its secret is printed once.',
  'create --name NAME (--scopes chat,embeddings | --roles developer) [--models \'gpt-4o-mini,qwen2.5-*\'] [--allowed-ips 10.0.0.0/8,2001:db8::/32]\n' +
  '       [--ttl 24h] [--tenant T] [--metadata JSON] [--json]\n\n' +
  `Scopes: ${allScopes.join(', ')}.\nRoles: user, developer, auditor, tenant-admin, admin (and those in auth.roles). --ttl takes 30s, 15m, 24h, 7d.`,
  { ...credentialOptions, ttl: { type: 'string' } },
  async (conn, args, io) => {
    const fields = credentialFields(args)
    const ttl = durationOption(args, 'ttl')
    if (ttl === 0) throw new UsageError('--ttl must be longer than 0s')
    const body = { ...fields, expires_in: ttl }
    const key = await adminRequest(conn, 'POST', '/keys', body) as KeyJson
    printKey(io, args, key, `Created ${key.id} (${key.name})`)
  })

export const keysListCommand = keysCommand('list', 'List API keys, newest first.', 'list [--tenant T] [--json]',
  { tenant: { type: 'string' } },
  async (conn, args, io) => {
    const keys = await fetchAllPages<KeyJson>(conn, '/keys', stringOption(args, 'tenant'))
    if (args.values.json === true) {
      io.out(JSON.stringify(keys, null, 2))
      return
    }
    if (keys.length === 0) {
      io.out('No keys. Create one with `portcullis keys create --name NAME --scopes chat`.')
      return
    }
    const rows = keys.map((k) => [k.id, k.name, k.tenant ?? '-', [...k.scopes, ...k.roles.map((r) => `role:${r}`)].join(','), k.status, `…${k.last_four}`,
      formatTime(k.last_used_at), formatTime(k.expires_at)])
    for (const line of formatTable(['ID', 'NAME', 'TENANT', 'SCOPES', 'STATUS', 'ENDS', 'LAST USED', 'EXPIRES'], rows)) io.out(line)
  })

export const keysGetCommand = keysCommand('get', 'Show one API key.', 'get ID [--json]', {},
  async (conn, args, io) => {
    const key = await adminRequest(conn, 'GET', `/keys/${keyIdArg(args)}`) as KeyJson
    printKey(io, args, key, `Key ${key.id}`)
  })

export const keysRevokeCommand = keysCommand('revoke', 'Revoke an API key; the next request with it is refused.', 'revoke ID [--json]', {},
  async (conn, args, io) => {
    const key = await adminRequest(conn, 'POST', `/keys/${keyIdArg(args)}/revoke`, {}) as KeyJson
    printKey(io, args, key, `Revoked ${key.id} (${key.name})`)
  })

export const keysRotateCommand = keysCommand('rotate', 'Issue a new secret for a key; the old one works for --grace (default 0s).',
  'rotate ID [--grace 1h] [--json]', { grace: { type: 'string' } },
  async (conn, args, io) => {
    const id = keyIdArg(args)
    const grace = durationOption(args, 'grace') ?? 0
    const key = await adminRequest(conn, 'POST', `/keys/${id}/rotate`, { grace_period_seconds: grace }) as KeyJson
    const old = grace === 0 ? 'the old secret stops working now' : `the old secret works until ${formatTime((key.rotated_at ?? 0) + grace)}`
    printKey(io, args, key, `Rotated ${key.id} (${key.name}); ${old}`)
  })

/** All keys commands, for src/cli/command-list.ts. */
export const keysCommands: readonly Command[] = [keysCreateCommand, keysListCommand, keysGetCommand, keysRevokeCommand, keysRotateCommand]
