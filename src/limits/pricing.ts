import { GatewayError } from '../errors/gateway-error.ts'
import type { PriceRecord } from '../store/store.ts'

/**
 * Model prices and the cost of a request. Prices are integers in micro-USD per million tokens
 * ($2.50 per 1M tokens = 2 500 000), so a cost is exact integer arithmetic, never a float sum.
 */

/** One table entry: `model` is an exact name or a prefix ending in `*` (`*` alone: every model). */
export type PriceEntry = Pick<PriceRecord, 'model' | 'inputMicroUsdPerMillion' | 'outputMicroUsdPerMillion'>

/** The price that applies to a model, and the entry (`model` pattern) it came from. */
export interface Price {
  readonly model: string
  readonly inputMicroUsdPerMillion: number
  readonly outputMicroUsdPerMillion: number
}

export interface PriceTable {
  /** The exact entry for `model`, else the longest matching prefix, else null (unknown model). */
  priceFor (model: string): Price | null
}

const MICRO_USD_PER_MILLION = 1_000_000n
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function invalid (index: number, message: string): GatewayError {
  return new GatewayError('invalid_request', { param: `prices[${index}]`, message })
}

function checkPrice (index: number, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(index, `${name} must be a non-negative integer (micro-USD per million tokens).`)
  }
}

/**
 * Compiles price entries into a lookup. Throws `invalid_request` (param `prices[i]`) for an empty
 * or duplicate pattern, a `*` anywhere but the end, or a price that is not a non-negative integer.
 */
export function createPriceTable (entries: readonly PriceEntry[]): PriceTable {
  const exact = new Map<string, Price>()
  const prefixes: Array<{ prefix: string, price: Price }> = []
  const seen = new Set<string>()
  entries.forEach((entry, index) => {
    const { model } = entry
    if (typeof model !== 'string' || model.length === 0) throw invalid(index, 'model must be a non-empty string.')
    if (model.indexOf('*') !== -1 && model.indexOf('*') !== model.length - 1) {
      throw invalid(index, 'model may contain `*` only at its end (a prefix pattern).')
    }
    if (seen.has(model)) throw invalid(index, `model ${JSON.stringify(model)} is listed twice.`)
    seen.add(model)
    checkPrice(index, 'inputMicroUsdPerMillion', entry.inputMicroUsdPerMillion)
    checkPrice(index, 'outputMicroUsdPerMillion', entry.outputMicroUsdPerMillion)
    const price: Price = Object.freeze({
      model,
      inputMicroUsdPerMillion: entry.inputMicroUsdPerMillion,
      outputMicroUsdPerMillion: entry.outputMicroUsdPerMillion
    })
    if (model.endsWith('*')) prefixes.push({ prefix: model.slice(0, -1), price })
    else exact.set(model, price)
  })
  // Longest first, so the first match is the most specific one.
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length)

  return {
    priceFor (model: string): Price | null {
      const hit = exact.get(model)
      if (hit !== undefined) return hit
      for (const { prefix, price } of prefixes) if (model.startsWith(prefix)) return price
      return null
    }
  }
}

function tokens (value: number, name: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`)
  return BigInt(value)
}

/**
 * Cost in micro-USD, rounded up: a budget is never under-charged, so a fraction of a micro-USD
 * costs a whole one (1 token at $0.15/M is 0.15 µ$ → 1 µ$). Exact in BigInt (tokens × price can
 * pass 2^53); saturates at Number.MAX_SAFE_INTEGER µ$ (≈ $9 billion). Token counts must be
 * non-negative safe integers (usage is validated before it is priced): anything else is a bug,
 * a RangeError.
 */
export function costMicroUsd (price: Price, inputTokens: number, outputTokens: number): number {
  // Every request is priced twice (reservation, settlement): in doubles when the exact total is
  // below 2^53 (an integer product or sum that rounds to ≤ 2^53 − 1 was exact), else in BigInt.
  if (Number.isSafeInteger(inputTokens) && inputTokens >= 0 && Number.isSafeInteger(outputTokens) && outputTokens >= 0) {
    const sum = inputTokens * price.inputMicroUsdPerMillion + outputTokens * price.outputMicroUsdPerMillion
    if (sum <= Number.MAX_SAFE_INTEGER) return ceilMillionths(sum)
  }
  const total = tokens(inputTokens, 'inputTokens') * BigInt(price.inputMicroUsdPerMillion) +
    tokens(outputTokens, 'outputTokens') * BigInt(price.outputMicroUsdPerMillion)
  const cost = (total + MICRO_USD_PER_MILLION - 1n) / MICRO_USD_PER_MILLION
  return Number(cost > MAX_SAFE ? MAX_SAFE : cost)
}

/** ⌈n / 10⁶⌉ for a safe integer n ≥ 0, exactly (the remainder corrects the float quotient). */
function ceilMillionths (n: number): number {
  let q = Math.floor(n / 1_000_000)
  let r = n - q * 1_000_000
  if (r < 0) { q -= 1; r += 1_000_000 } else if (r >= 1_000_000) { q += 1; r -= 1_000_000 }
  return r > 0 ? q + 1 : q
}
