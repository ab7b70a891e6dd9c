import type { CorpusItem } from '../corpus-item.ts'
import { buildObfuscatedItems } from './obfuscated-items.ts'
import { buildPiiItems } from './pii-items.ts'
import { createPrng } from './prng.ts'
import { buildSecretItems } from './secret-items.ts'

/** The generated corpus files and their items; the seeds fix their content. */
export function generatedFiles (): Array<readonly [string, CorpusItem[]]> {
  return [
    ['pii.jsonl', buildPiiItems(createPrng(0x5EED0001))],
    ['secrets.jsonl', buildSecretItems(createPrng(0x5EED0002))],
    ['injection-obfuscated.jsonl', buildObfuscatedItems()]
  ]
}

export function toJsonl (items: readonly CorpusItem[]): string {
  return items.map((item) => JSON.stringify(item)).join('\n') + '\n'
}
