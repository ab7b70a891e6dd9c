import { open } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CliIo, Command, CommandArgs } from './command.ts'
import type { AuditPageJson } from '../admin/audit-routes.ts'
import type { Principal } from '../pipeline/context.ts'
import { UsageError } from './command.ts'
import { parseDuration } from '../lib/duration.ts'
import { adminOptions, adminOptionsHelp, adminRequest, reportFailure, resolveAdminConnection, stringOption } from './admin-client.ts'
import { LocalSetupError, loadLocalConfig, localOptionsHelp } from './audit-local.ts'
import { auditRoutes } from '../admin/audit-routes.ts'
import { createFileAuditSearch } from '../audit/audit-file-search.ts'
import { canonicalJson } from '../audit/canonical-json.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { printRecords } from './audit-record-table.ts'
import { auditCheckpointsCommand, auditVerifyCommand } from './audit-verify-command.ts'

type FetchPage = (query: URLSearchParams) => Promise<AuditPageJson>

const filterNames = ['since', 'until', 'key', 'client', 'tenant', 'status', 'error', 'ip', 'type'] as const
const filterOptions = Object.fromEntries(filterNames.map((n) => [n, { type: 'string' }])) as Record<typeof filterNames[number], { type: 'string' }>
const sourceOptions = { ...adminOptions, 'data-dir': { type: 'string' }, config: { type: 'string' } } as const

const filtersHelp = [
  '  --since T, --until T    Unix seconds, ISO 8601 (2025-01-31T00:00:00Z), or 15m / 24h / 7d ago',
  '  --key ID  --client ID  --tenant T  --status N  --error CODE  --ip ADDR  --type request|admin|oauth|retention'
].join('\n')
const sourceHelp = `${adminOptionsHelp}\n${localOptionsHelp}\n` +
  '                          With --data-dir (or --config), read this machine\'s audit files instead\n' +
  '                          of asking the gateway: no admin key needed, no tenant isolation'

// A CLI with the files in front of it is the operator: the same route, the same parsing, no tenant.
const localOperator: Principal = {
  kind: 'bootstrap_admin', keyId: null, clientId: null, subject: null, tokenId: null, name: 'local files',
  tenant: null, scopes: new Set(['admin']), models: null, allowedIps: null
}

/** `--since 24h` → Unix seconds that long ago; anything else is passed on for the server to check. */
function timeValue (value: string, name: string): string {
  if (!/^\d+[smhd]$/.test(value)) return value
  try {
    return String(Math.floor(Date.now() / 1000) - parseDuration(value))
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`)
  }
}

function filterQuery (args: CommandArgs): URLSearchParams {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`)
  const query = new URLSearchParams()
  for (const name of filterNames) {
    const value = stringOption(args, name)
    if (value !== undefined) query.set(name, name === 'since' || name === 'until' ? timeValue(value, name) : value)
  }
  return query
}

/** Pages from the admin API, or, with --data-dir/--config, from the local segment files. */
async function pageSource (args: CommandArgs, io: CliIo): Promise<FetchPage> {
  if (stringOption(args, 'data-dir') !== undefined || stringOption(args, 'config') !== undefined) {
    const { auditDir } = loadLocalConfig(args, io)
    const route = auditRoutes({ source: createFileAuditSearch({ dir: auditDir }) }).find((r) => r.method === 'GET' && r.url === '/audit')
    if (route === undefined) throw new Error('the audit route is missing')
    return async (query) => (await route.handler({
      principal: localOperator, actor: 'cli', ip: '', params: {}, query: Object.fromEntries(query), body: {}
    })).body as AuditPageJson
  }
  const conn = await resolveAdminConnection(args, io.env)
  return async (query) => await adminRequest(conn, 'GET', `/audit?${query.toString()}`) as AuditPageJson
}

/** Runs one audit command: admin API failures and local problems become one line and exit 1 (2 for setup). */
async function runAudit (io: CliIo, name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body()
    return 0
  } catch (err) {
    if (err instanceof LocalSetupError) {
      io.err(`portcullis audit ${name}: ${err.message}`)
      return 2
    }
    if (err instanceof GatewayError) {
      io.err(`portcullis: ${err.status} ${err.code}: ${err.message}`)
      return 1
    }
    return reportFailure(err, io.err, 'admin:audit')
  }
}

export const auditSearchCommand: Command = {
  name: 'audit search',
  summary: 'Search audit records by time, key, client, tenant, status, error, IP or type',
  help: `Usage: portcullis audit search [filters] [--limit N] [--order desc|asc] [--cursor C] [--json]

Shows one page of matching records, newest first (--order asc: oldest first, chain order), and
the --cursor that continues. Uses GET /admin/v1/audit (admin key with admin:audit; a tenant's
admin key sees its tenant only).

Filters:
${filtersHelp}
Options:
  --limit N               Records per page, 1 to 1000 (default 20)
  --order desc|asc        Newest first (default) or chain order
  --cursor C              Continue from a previous page
  --json                  One record per line, exactly as stored (seq, prev, mac included)
${sourceHelp}`,
  options: { ...sourceOptions, ...filterOptions, limit: { type: 'string' }, order: { type: 'string' }, cursor: { type: 'string' } },
  async run (args, io) {
    const query = filterQuery(args)
    query.set('limit', stringOption(args, 'limit') ?? '20')
    for (const name of ['order', 'cursor']) if (stringOption(args, name) !== undefined) query.set(name, stringOption(args, name) as string)
    return await runAudit(io, 'search', async () => {
      const page = await (await pageSource(args, io))(query)
      const json = args.values.json === true
      if (page.data.length === 0 && !json) io.out('No matching records.')
      else printRecords(io, page.data, json, true)
      if (page.has_more && page.next_cursor !== null) io.err(`(more: add --cursor ${page.next_cursor})`)
    })
  }
}

export const auditTailCommand: Command = {
  name: 'audit tail',
  summary: 'Show the newest audit records; --follow prints new ones as they are written',
  help: `Usage: portcullis audit tail [filters] [--lines N] [--follow [--interval 1s] [--exit-after N]] [--json]

Prints the newest N matching records, oldest of them first; with --follow, keeps polling and
prints each new matching record (Ctrl-C stops). Records appear once the writer has written them
(within about a second) — or, with PostgreSQL, once the mirror has.

Filters:
${filtersHelp}
Options:
  -n, --lines N           How many records to show first (default 10, at most 1000)
  -f, --follow            Keep printing new records
  --interval D            Poll interval with --follow (default 1s)
  --exit-after N          With --follow: exit after N new records (for scripts)
  --json                  One record per line, exactly as stored
${sourceHelp}`,
  options: {
    ...sourceOptions, ...filterOptions, lines: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f', default: false },
    interval: { type: 'string' }, 'exit-after': { type: 'string' }
  },
  async run (args, io) {
    const filters = filterQuery(args)
    const intervalMs = parseDurationOption(args, 'interval', '1s') * 1000
    if (intervalMs < 1000) throw new UsageError('--interval must be at least 1s')
    const exitAfter = stringOption(args, 'exit-after') === undefined ? Infinity : positiveInt(args, 'exit-after')
    const lines = stringOption(args, 'lines') ?? '10'
    return await runAudit(io, 'tail', async () => {
      const fetchPage = await pageSource(args, io)
      const json = args.values.json === true
      const first = await fetchPage(new URLSearchParams({ ...Object.fromEntries(filters), limit: lines, order: 'desc' }))
      printRecords(io, [...first.data].reverse(), json, true)
      if (args.values.follow !== true) return
      let cursor = first.follow_cursor
      let seen = 0
      while (seen < exitAfter) {
        await sleep(intervalMs)
        const page = await fetchPage(new URLSearchParams({ ...Object.fromEntries(filters), limit: '1000', cursor }))
        const fresh = page.data.slice(0, exitAfter - seen)
        printRecords(io, fresh, json, false)
        seen += fresh.length
        cursor = page.has_more && page.next_cursor !== null ? page.next_cursor : page.follow_cursor
      }
    })
  }
}

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'Export audit records as JSON lines (for a SIEM), oldest first',
  help: `Usage: portcullis audit export [--since T] [--until T] [filters] [--out FILE]

Writes every matching record, in chain order, one JSON object a line, exactly as stored (seq,
prev and mac included, so the receiver can check the chain), to stdout or --out. Progress goes
to stderr. A cron job can export yesterday: --since 2025-01-30T00:00:00Z --until 2025-01-31T00:00:00Z.

Filters:
${filtersHelp}
Options:
  --out FILE              Write here (created 0600; an existing file is not overwritten)
${sourceHelp}`,
  options: { ...sourceOptions, ...filterOptions, out: { type: 'string' } },
  async run (args, io) {
    const filters = filterQuery(args)
    const outPath = stringOption(args, 'out')
    return await runAudit(io, 'export', async () => {
      const fetchPage = await pageSource(args, io)
      const file = outPath === undefined ? null : await openExclusive(outPath)
      let written = 0
      try {
        let cursor: string | null = null
        do {
          const query: URLSearchParams = new URLSearchParams({ ...Object.fromEntries(filters), limit: '1000', order: 'asc', ...(cursor === null ? {} : { cursor }) })
          const page = await fetchPage(query)
          const text = page.data.map((r) => canonicalJson(r) + '\n').join('')
          if (file === null) { if (text !== '') io.out(text.slice(0, -1)) } else await file.write(text)
          written += page.data.length
          if (file !== null && page.has_more) io.err(`exported ${written} records…`)
          cursor = page.has_more ? page.next_cursor : null
        } while (cursor !== null)
        if (file !== null) await file.sync()
      } finally {
        await file?.close()
      }
      io.err(`exported ${written} records${outPath === undefined ? '' : ` to ${outPath}`}`)
    })
  }
}

async function openExclusive (path: string): Promise<Awaited<ReturnType<typeof open>>> {
  try {
    return await open(path, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new LocalSetupError(code === 'EEXIST' ? `--out: ${path} exists; export never overwrites` : `--out: cannot create ${path} (${code ?? 'error'})`)
  }
}

function parseDurationOption (args: CommandArgs, name: string, fallback: string): number {
  try {
    return parseDuration(stringOption(args, name) ?? fallback)
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`)
  }
}

function positiveInt (args: CommandArgs, name: string): number {
  const value = Number(stringOption(args, name))
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`)
  return value
}

/** The audit commands, for src/cli/command-list.ts. */
export const auditCommands: readonly Command[] = [auditVerifyCommand, auditSearchCommand, auditTailCommand, auditExportCommand, auditCheckpointsCommand]
