// Regenerates the docs that are derived from code: `npm run docs`.
import { writeFileSync } from 'node:fs'
import { generatedDocs } from '../src/config/generated-docs.ts'

for (const [file, render] of Object.entries(generatedDocs)) {
  writeFileSync(new URL('../' + file, import.meta.url), render())
  process.stdout.write(`wrote ${file}\n`)
}
