import type { Command, CommandArgs } from './command.ts'
import type { PriceJson } from '../admin/prices-routes.ts'
import { UsageError } from './command.ts'
import { adminRequest, stringOption } from './admin-client.ts'
import { adminCommand, type AdminAction } from './admin-command.ts'
import { formatTable } from './format-table.ts'

/** Builds a prices command (see admin-command.ts). */
function pricesCommand (name: string, summary: string, usage: string, options: Command['options'], action: AdminAction): Command {
  return adminCommand('prices', 'admin:config', name, summary, usage, options, action)
}

/** The model argument, URL-encoded: names may hold `/` and `:` (`meta-llama/Llama-3.1-8B`, `qwen2.5:7b`). */
function modelArg (args: CommandArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('expected exactly one model name or pattern (e.g. gpt-4o-mini or qwen2.5-*)')
  return encodeURIComponent(args.positionals[0] as string)
}

function usdOption (args: CommandArgs, name: string): number {
  const value = stringOption(args, name)
  if (value === undefined || !/^\d+(?:\.\d+)?$/.test(value.trim())) throw new UsageError(`--${name} is required: USD per million tokens, e.g. 0.15`)
  return Number(value)
}

const money = (usd: number): string => `$${usd}`

export const pricesListCommand = pricesCommand('list', 'Show the effective price table (USD per million tokens) and where each price comes from.',
  'list [--json]', {},
  async (conn, args, io) => {
    const { data } = await adminRequest(conn, 'GET', '/prices') as { data: PriceJson[] }
    if (args.values.json === true) {
      io.out(JSON.stringify(data, null, 2))
      return
    }
    const rows = data.map((p) => [p.model, money(p.input_per_million_usd), money(p.output_per_million_usd), p.source])
    for (const line of formatTable(['MODEL', 'INPUT /1M', 'OUTPUT /1M', 'SOURCE'], rows)) io.out(line)
  })

export const pricesSetCommand = pricesCommand('set', 'Override the price of a model (or a `prefix*` pattern) for cost and budgets.',
  'set MODEL --input USD --output USD [--json]\n\nAmounts are USD per million tokens; quote patterns for the shell (\'qwen2.5-*\').',
  { input: { type: 'string' }, output: { type: 'string' } },
  async (conn, args, io) => {
    const model = modelArg(args)
    const body = { input_per_million_usd: usdOption(args, 'input'), output_per_million_usd: usdOption(args, 'output') }
    const price = await adminRequest(conn, 'POST', `/prices/${model}`, body) as PriceJson
    io.out(args.values.json === true
      ? JSON.stringify(price, null, 2)
      : `Set ${price.model}: input ${money(price.input_per_million_usd)}, output ${money(price.output_per_million_usd)} per million tokens`)
  })

export const pricesUnsetCommand = pricesCommand('unset', 'Remove a price override: the model goes back to the config or built-in price.',
  'unset MODEL [--json]', {},
  async (conn, args, io) => {
    const result = await adminRequest(conn, 'DELETE', `/prices/${modelArg(args)}`) as { model: string, effective: PriceJson | null }
    if (args.values.json === true) {
      io.out(JSON.stringify(result, null, 2))
      return
    }
    const now = result.effective === null
      ? 'no entry of that name is left (a prefix pattern may still match it)'
      : `now ${money(result.effective.input_per_million_usd)} / ${money(result.effective.output_per_million_usd)} (${result.effective.source})`
    io.out(`Removed the override of ${result.model}; ${now}`)
  })

/** All prices commands, for src/cli/command-list.ts. */
export const pricesCommands: readonly Command[] = [pricesListCommand, pricesSetCommand, pricesUnsetCommand]
