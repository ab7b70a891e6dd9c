import type { Command, CommandArgs } from './command.ts'
import type { UsageJson, UsageRowJson } from '../admin/usage-routes.ts'
import { UsageError } from './command.ts'
import { parseDuration } from '../lib/duration.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand } from './admin-command.ts'
import { formatTable, formatTime } from './format-table.ts'

/** `--from 7d` (that long ago), Unix seconds, or ISO 8601 passed through for the server to check. */
function timeOption (args: CommandArgs, name: string, nowMs: number): string | undefined {
  const value = stringOption(args, name)?.trim()
  if (value === undefined || !/^\d+[smhd]$/.test(value)) return value
  try {
    return String(Math.floor(nowMs / 1000) - parseDuration(value))
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`)
  }
}

const columns: ReadonlyArray<[string, string, (r: UsageRowJson) => string]> = [
  ['hour', 'HOUR', (r) => formatTime(r.hour)],
  ['key', 'KEY', (r) => r.key_id ?? '-'],
  ['client', 'CLIENT', (r) => r.client_id ?? '-'],
  ['tenant', 'TENANT', (r) => r.tenant ?? '-'],
  ['model', 'MODEL', (r) => r.model ?? '-']
]

const cost = (usd: number): string => `$${usd.toFixed(6)}`
const count = (n: number): string => n.toLocaleString('en-US')

const metricHeaders = ['REQUESTS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST (USD)']
const metrics = (r: UsageJson['totals']): string[] => [count(r.requests), count(r.input_tokens), count(r.output_tokens), cost(r.cost_usd)]

/** The rows as a table, dimensions in a fixed order, with a TOTAL line over every row (not only those shown). */
function usageTable (usage: UsageJson): string[] {
  const dims = columns.filter(([dim]) => (usage.group_by as string[]).includes(dim))
  if (dims.length === 0) return formatTable(['', ...metricHeaders], [['TOTAL', ...metrics(usage.totals)]])
  const rows = usage.data.map((r) => [...dims.map(([, , cell]) => cell(r)), ...metrics(r)])
  const total = [...dims.map((_, i) => i === 0 ? 'TOTAL' : ''), ...metrics(usage.totals)]
  return formatTable([...dims.map(([, header]) => header), ...metricHeaders], [...rows, total])
}

export const usageCommand: Command = {
  ...adminCommand('usage', 'admin:usage', '', 'Show requests, tokens and cost per model, key, client, tenant or hour.',
    '[--from 7d|UNIX|ISO] [--to UNIX|ISO] [--key KEY_ID] [--client CLIENT_ID] [--tenant T] [--model M] ' +
    '[--group-by model,hour,key,client,tenant] [--limit N] [--json]\n\n' +
    'The default window is the last 24 hours, grouped by model. Usage is recorded per hour (UTC).',
    {
      from: { type: 'string' }, to: { type: 'string' }, key: { type: 'string' }, client: { type: 'string' }, tenant: { type: 'string' },
      model: { type: 'string' }, 'group-by': { type: 'string' }, limit: { type: 'string' }
    },
    async (conn, args, io) => {
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
      const now = Date.now()
      const params: Record<string, string | undefined> = {
        from: timeOption(args, 'from', now), to: timeOption(args, 'to', now), key: stringOption(args, 'key'), client: stringOption(args, 'client'),
        tenant: stringOption(args, 'tenant'), model: stringOption(args, 'model'), group_by: stringOption(args, 'group-by'), limit: stringOption(args, 'limit')
      }
      const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))
      const usage = await adminRequest(conn, 'GET', `/usage${query.size > 0 ? '?' + query.toString() : ''}`) as UsageJson
      if (args.values.json === true) {
        io.out(JSON.stringify(usage, null, 2))
        return
      }
      const by = usage.group_by.length === 0 ? 'totals only' : `by ${usage.group_by.join(', ')}`
      io.out(`Usage from ${formatTime(usage.from)} to ${formatTime(usage.to)}, ${by}`)
      if (usage.data.length === 0) {
        io.out('No usage in this window.')
        return
      }
      for (const line of usageTable(usage)) io.out(line)
      if (usage.has_more) io.out(`(only the first ${usage.data.length} rows are shown; raise --limit to see more. TOTAL covers them all.)`)
    }),
  name: 'usage'
}

/** The usage command, for src/cli/command-list.ts. */
export const usageCommands: readonly Command[] = [usageCommand]
