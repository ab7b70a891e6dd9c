import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { generatedDocs } from '../src/config/generated-docs.ts'

for (const [file, render] of Object.entries(generatedDocs)) {
  test(`${file} is in step with the code (run \`npm run docs\` after changing it)`, () => {
    assert.equal(readFileSync(new URL('../' + file, import.meta.url), 'utf8'), render())
  })
}

