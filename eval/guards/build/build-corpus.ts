/**
 * Regenerates the machine-made part of the guard corpus: PII and secret items (synthetic values
 * with valid checksums, and near-misses) and obfuscated injection variants. The plain injection
 * items (injection-en.jsonl, injection-zh.jsonl) are written by hand and not touched here.
 * Deterministic: `node eval/guards/build/build-corpus.ts` twice produces the same bytes
 * (test/eval/guards-eval.test.ts checks the committed files match).
 */
import { writeFileSync } from 'node:fs'
import { corpusDir } from '../load-corpus.ts'
import { generatedFiles, toJsonl } from './generated-files.ts'

for (const [name, items] of generatedFiles()) {
  writeFileSync(corpusDir + name, toJsonl(items))
  process.stdout.write(`${name}: ${items.length} items\n`)
}
