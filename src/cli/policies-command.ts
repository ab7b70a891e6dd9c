import type { CliIo, Command, CommandArgs } from './command.ts'
import type { PolicyJson } from '../admin/policies-routes.ts'
import { UsageError } from './command.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand, fetchAllPages, type AdminAction } from './admin-command.ts'
import { formatDetails, formatTable, formatTime } from './format-table.ts'

/** Builds a policies command (see admin-command.ts). */
function policiesCommand (name: string, summary: string, usage: string, options: Command['options'], action: AdminAction): Command {
  return adminCommand('policies', 'admin:config', name, summary, usage, options, action)
}

/** CLI option → admin API field, for the limits a policy sets. */
const limitOptions = [
  ['requests-per-minute', 'requests_per_minute'],
  ['tokens-per-minute', 'tokens_per_minute'],
  ['concurrent-requests', 'concurrent_requests'],
  ['budget-usd', 'budget_usd'],
  ['budget-period', 'budget_period'],
  ['max-tokens', 'max_tokens']
] as const

const limitOptionSpec: Command['options'] = Object.fromEntries(limitOptions.map(([option]) => [option, { type: 'string' }]))

const limitsHelp = '[--requests-per-minute N] [--tokens-per-minute N] [--concurrent-requests N] ' +
  '[--budget-usd USD --budget-period daily|monthly|total] [--max-tokens N]'

/** The limit options given; `none` clears a limit (update), numbers stay numbers, the server validates ranges. */
function limitFields (args: CommandArgs): Record<string, number | string | null> {
  const body: Record<string, number | string | null> = {}
  for (const [option, field] of limitOptions) {
    const value = stringOption(args, option)
    if (value === undefined) continue
    if (value === 'none') body[field] = null
    else if (field === 'budget_period') body[field] = value
    else if (/^\d+(?:\.\d+)?$/.test(value.trim())) body[field] = Number(value)
    else throw new UsageError(`--${option} must be a number (or none to clear it)`)
  }
  return body
}

/** `global`, `tenant:acme`, `key:key_…`, `client:cli_…`, `model:gpt-4o*` (the id may itself contain `:`). */
function targetOption (args: CommandArgs): { kind: string, id?: string } {
  const value = stringOption(args, 'target')
  if (value === undefined) throw new UsageError('--target is required: global, tenant:NAME, key:KEY_ID, client:CLIENT_ID or model:PATTERN')
  const colon = value.indexOf(':')
  return colon === -1 ? { kind: value } : { kind: value.slice(0, colon), id: value.slice(colon + 1) }
}

function policyIdArg (args: CommandArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('expected exactly one policy id (e.g. pol_3kTq9fY2pLmN8xWz)')
  return encodeURIComponent(args.positionals[0] as string)
}

const dash = (value: number | string | null): string => value === null ? '-' : String(value)
const targetText = (p: PolicyJson): string => p.target.id === null ? p.target.kind : `${p.target.kind}:${p.target.id}`
const budgetText = (p: PolicyJson): string => p.budget_usd === null ? '-' : `$${p.budget_usd} ${p.budget_period ?? ''}`.trim()

function printPolicy (io: CliIo, args: CommandArgs, p: PolicyJson, heading: string): void {
  if (args.values.json === true) {
    io.out(JSON.stringify(p, null, 2))
    return
  }
  io.out(heading)
  const lines = formatDetails([
    ['id', p.id], ['target', targetText(p)], ['tenant', p.tenant ?? '- (operator)'], ['requests/min', dash(p.requests_per_minute)],
    ['tokens/min', dash(p.tokens_per_minute)], ['concurrent', dash(p.concurrent_requests)], ['budget', budgetText(p)],
    ['max tokens', dash(p.max_tokens)], ['created', `${formatTime(p.created_at)} by ${p.created_by ?? '-'}`], ['updated', formatTime(p.updated_at)]
  ])
  for (const line of lines) io.out(line)
}

export const policiesCreateCommand = policiesCommand('create', 'Create a limits policy for a key, client, tenant, model or all traffic.',
  `create --target global|tenant:NAME|key:KEY_ID|client:CLIENT_ID|model:PATTERN [--tenant T] ${limitsHelp} [--json]\n\n` +
  'Every policy that matches a request applies; the tightest limit wins.',
  { target: { type: 'string' }, tenant: { type: 'string' }, ...limitOptionSpec },
  async (conn, args, io) => {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
    const body = { target: targetOption(args), tenant: stringOption(args, 'tenant'), ...limitFields(args) }
    const policy = await adminRequest(conn, 'POST', '/policies', body) as PolicyJson
    printPolicy(io, args, policy, `Created ${policy.id} for ${targetText(policy)}`)
  })

export const policiesListCommand = policiesCommand('list', 'List limits policies, newest first.', 'list [--tenant T] [--target KIND[:ID]] [--json]',
  { tenant: { type: 'string' }, target: { type: 'string' } },
  async (conn, args, io) => {
    const target = stringOption(args, 'target') === undefined ? null : targetOption(args)
    const policies = (await fetchAllPages<PolicyJson>(conn, '/policies', stringOption(args, 'tenant')))
      .filter((p) => target === null || (p.target.kind === target.kind && (target.id === undefined || p.target.id === target.id)))
    if (args.values.json === true) {
      io.out(JSON.stringify(policies, null, 2))
      return
    }
    if (policies.length === 0) {
      io.out('No policies. Create one with `portcullis policies create --target key:KEY_ID --requests-per-minute 60`.')
      return
    }
    const rows = policies.map((p) => [p.id, targetText(p), p.tenant ?? '-', dash(p.requests_per_minute), dash(p.tokens_per_minute),
      dash(p.concurrent_requests), budgetText(p), dash(p.max_tokens)])
    for (const line of formatTable(['POLICY ID', 'TARGET', 'TENANT', 'RPM', 'TPM', 'CONCURRENT', 'BUDGET', 'MAX TOKENS'], rows)) io.out(line)
  })

export const policiesGetCommand = policiesCommand('get', 'Show one limits policy.', 'get ID [--json]', {},
  async (conn, args, io) => {
    const policy = await adminRequest(conn, 'GET', `/policies/${policyIdArg(args)}`) as PolicyJson
    printPolicy(io, args, policy, `Policy ${policy.id}`)
  })

export const policiesUpdateCommand = policiesCommand('update', 'Change the limits of a policy; options not given keep their value, `none` clears one.',
  `update ID ${limitsHelp} [--json]`, limitOptionSpec,
  async (conn, args, io) => {
    const id = policyIdArg(args)
    const body = limitFields(args)
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one limit option')
    const policy = await adminRequest(conn, 'POST', `/policies/${id}`, body) as PolicyJson
    printPolicy(io, args, policy, `Updated ${policy.id}`)
  })

export const policiesDeleteCommand = policiesCommand('delete', 'Delete a limits policy; its limits stop applying at once.', 'delete ID [--json]', {},
  async (conn, args, io) => {
    const deleted = await adminRequest(conn, 'DELETE', `/policies/${policyIdArg(args)}`) as { id: string }
    io.out(args.values.json === true ? JSON.stringify(deleted, null, 2) : `Deleted ${deleted.id}`)
  })

/** All policies commands, for src/cli/command-list.ts. */
export const policiesCommands: readonly Command[] = [
  policiesCreateCommand, policiesListCommand, policiesGetCommand, policiesUpdateCommand, policiesDeleteCommand
]
