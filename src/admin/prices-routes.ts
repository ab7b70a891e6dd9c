import { z } from 'zod'
import type { AdminRoute } from './admin-routes.ts'
import type { Principal } from '../pipeline/context.ts'
import type { PriceRecord, PriceStore } from '../store/store.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { defaultPrices, type ModelPrice } from '../limits/default-prices.ts'
import { validateModelPattern } from '../limits/policy-rules.ts'
import { emptyBody, parseInput } from './parse-input.ts'

export interface PriceRoutesDeps {
  readonly prices: PriceStore
  /** The built-in table; default `defaultPrices`. */
  readonly defaults?: readonly ModelPrice[]
  /** Overrides from the config file (`prices`), over the defaults and under the stored ones. */
  readonly configured?: readonly ModelPrice[]
  /** Called (and awaited) after every write, so price tables reload and other instances hear of it. */
  onChange (): void | Promise<void>
  readonly now?: () => number
}

/** Where an effective price comes from: the built-in table, the config file, or the admin API. */
export type PriceSource = 'default' | 'config' | 'override'

export interface PriceJson {
  object: 'price'
  model: string
  input_per_million_usd: number
  output_per_million_usd: number
  source: PriceSource
  /** Unix seconds of the last admin API change; null for default and config prices. */
  updated_at: number | null
  updated_by: string | null
}

const usdPerMillion = z.number().min(0, 'must be at least 0').max(10_000, 'must be at most 10000 (USD per million tokens)')

const setBody = z.strictObject({ input_per_million_usd: usdPerMillion, output_per_million_usd: usdPerMillion })

function priceJson (p: ModelPrice | PriceRecord, source: PriceSource): PriceJson {
  const stored = 'updatedAt' in p
  return {
    object: 'price',
    model: p.model,
    input_per_million_usd: p.inputMicroUsdPerMillion / 1_000_000,
    output_per_million_usd: p.outputMicroUsdPerMillion / 1_000_000,
    source,
    updated_at: stored ? Math.floor(p.updatedAt / 1000) : null,
    updated_by: stored ? p.updatedBy : null
  }
}

/** The effective table, by model: stored overrides over config over the built-in defaults. */
async function effectivePrices (deps: PriceRoutesDeps): Promise<Map<string, PriceJson>> {
  const table = new Map<string, PriceJson>()
  for (const p of deps.defaults ?? defaultPrices) table.set(p.model, priceJson(p, 'default'))
  for (const p of deps.configured ?? []) table.set(p.model, priceJson(p, 'config'))
  for (const p of await deps.prices.listAll()) table.set(p.model, priceJson(p, 'override'))
  return table
}

/** Prices apply to every tenant's traffic, so only the operator (a credential without a tenant) changes them. */
function assertOperator (principal: Principal): void {
  if (principal.tenant !== null) {
    throw new GatewayError('forbidden', { param: null, message: 'Prices apply to every tenant: only the operator (a credential without a tenant) may change them.' })
  }
}

function modelParam (params: Readonly<Record<string, string>>): string {
  return validateModelPattern(params.model ?? '', 'model')
}

/**
 * `/admin/v1/prices`: the effective price table, and overrides per model (name or `prefix*`).
 * The model is one path segment; names with `/` are sent URL-encoded (`%2F`).
 */
export function priceRoutes (deps: PriceRoutesDeps): AdminRoute[] {
  const now = deps.now ?? Date.now
  return [
    {
      method: 'GET', url: '/prices', scope: 'admin:config',
      async handler () {
        const data = [...(await effectivePrices(deps)).values()].sort((a, b) => a.model < b.model ? -1 : a.model > b.model ? 1 : 0)
        return { body: { object: 'list', data, has_more: false, next_cursor: null } }
      }
    },
    {
      // POST like every other write of the admin API; it is an idempotent "set".
      method: 'POST', url: '/prices/:model', scope: 'admin:config',
      async handler ({ params, body, principal, actor }) {
        assertOperator(principal)
        const model = modelParam(params)
        const input = parseInput(setBody, body)
        const record: PriceRecord = {
          model,
          inputMicroUsdPerMillion: Math.round(input.input_per_million_usd * 1_000_000),
          outputMicroUsdPerMillion: Math.round(input.output_per_million_usd * 1_000_000),
          updatedAt: now(),
          updatedBy: actor
        }
        await deps.prices.put(record)
        await deps.onChange()
        return { body: priceJson(record, 'override') }
      }
    },
    {
      method: 'DELETE', url: '/prices/:model', scope: 'admin:config',
      async handler ({ params, body, principal }) {
        assertOperator(principal)
        parseInput(emptyBody, body)
        const model = modelParam(params)
        if (!await deps.prices.delete(model)) {
          throw new GatewayError('not_found', { param: 'model', message: 'No price override for this model (defaults and config prices cannot be deleted here).' })
        }
        await deps.onChange()
        const effective = (await effectivePrices(deps)).get(model) ?? null
        return { body: { object: 'price', model, deleted: true, effective } }
      }
    }
  ]
}
