import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CorpusItem } from './corpus-item.ts'

export const corpusDir = fileURLToPath(new URL('./corpus/', import.meta.url))
/** Items written after the injection detector was tuned on the corpus; reported, never tuned on. */
export const holdoutDir = fileURLToPath(new URL('./holdout/', import.meta.url))

/** Every item of every `*.jsonl` file in the corpus directory, validated, in file order. */
export function loadCorpus (dir = corpusDir): CorpusItem[] {
  const items: CorpusItem[] = []
  const ids = new Set<string>()
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(dir + file, 'utf8').split('\n')
    lines.forEach((line, index) => {
      if (line.trim() === '') return
      const item = validItem(JSON.parse(line), `${file}:${index + 1}`)
      if (ids.has(item.id)) throw new Error(`${file}:${index + 1}: duplicate id ${item.id}`)
      ids.add(item.id)
      items.push(item)
    })
  }
  return items
}

function validItem (value: unknown, where: string): CorpusItem {
  const item = value as CorpusItem
  const ok = item !== null && typeof item === 'object' &&
    typeof item.id === 'string' && (item.lang === 'en' || item.lang === 'zh') &&
    typeof item.text === 'string' && item.text.length > 0 && typeof item.note === 'string' &&
    typeof item.labels?.injection === 'boolean' &&
    Array.isArray(item.labels.pii) && item.labels.pii.every((t) => typeof t === 'string') &&
    Array.isArray(item.labels.secret) && item.labels.secret.every((t) => t.startsWith('secret.'))
  if (!ok) throw new Error(`${where}: not a valid corpus item`)
  return item
}
