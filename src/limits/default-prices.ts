/**
 * The built-in price table: what a model costs when neither the config (`prices`) nor the admin
 * API (`POST /admin/v1/prices/{model}`) says otherwise. Both override an entry of the same
 * `model` string; a model no entry matches has no price (a budget then cannot be enforced for it).
 *
 * Source: the public list prices of openai.com/api/pricing and anthropic.com/pricing (standard
 * tier, no batch or cache discounts) as known in 2025-06, taken from memory rather than fetched.
 * Providers change prices and negotiate discounts, so treat these as defaults to check: an
 * operator who bills on them should override them.
 *
 * Amounts are micro-USD (1e-6 USD) per million tokens, so `$2.50 / 1M` is 2_500_000 and the cost
 * of a request stays an exact integer sum. Dated OpenAI snapshots are listed one by one because
 * they are not all priced alike (`gpt-4o-2024-05-13` costs twice `gpt-4o-2024-08-06`); Anthropic
 * snapshots of one family share a price, so a prefix (`claude-3-5-haiku-*`) covers them.
 */
export interface ModelPrice {
  /** Model name, or a prefix ending in `*`. */
  readonly model: string
  readonly inputMicroUsdPerMillion: number
  readonly outputMicroUsdPerMillion: number
}

function usd (model: string, inputPerMillion: number, outputPerMillion: number): ModelPrice {
  return Object.freeze({
    model,
    inputMicroUsdPerMillion: Math.round(inputPerMillion * 1_000_000),
    outputMicroUsdPerMillion: Math.round(outputPerMillion * 1_000_000)
  })
}

export const defaultPrices: readonly ModelPrice[] = Object.freeze([
  usd('gpt-4o', 2.5, 10),
  usd('gpt-4o-2024-11-20', 2.5, 10),
  usd('gpt-4o-2024-08-06', 2.5, 10),
  usd('gpt-4o-2024-05-13', 5, 15),
  usd('gpt-4o-mini', 0.15, 0.6),
  usd('gpt-4o-mini-2024-07-18', 0.15, 0.6),
  usd('gpt-4.1', 2, 8),
  usd('gpt-4.1-2025-04-14', 2, 8),
  usd('gpt-4.1-mini', 0.4, 1.6),
  usd('gpt-4.1-mini-2025-04-14', 0.4, 1.6),
  usd('gpt-4.1-nano', 0.1, 0.4),
  usd('gpt-4.1-nano-2025-04-14', 0.1, 0.4),
  usd('o3-mini', 1.1, 4.4),
  usd('o3-mini-2025-01-31', 1.1, 4.4),
  usd('claude-3-5-sonnet-*', 3, 15),
  usd('claude-3-7-sonnet-*', 3, 15),
  usd('claude-sonnet-4-*', 3, 15),
  usd('claude-3-5-haiku-*', 0.8, 4),
  // Embeddings produce no output tokens.
  usd('text-embedding-3-small', 0.02, 0),
  usd('text-embedding-3-large', 0.13, 0),
  // The built-in mock upstream is free.
  usd('mock-*', 0, 0)
])
