import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { corpusDir, loadCorpus, holdoutDir } from '../../eval/guards/load-corpus.ts'
import { evaluate, targets } from '../../eval/guards/evaluate.ts'
import { generatedFiles, toJsonl } from '../../eval/guards/build/generated-files.ts'
import { main as _typeCheckedEntryPoint } from '../../eval/guards/run-eval.ts'
import { cnCheckChar, luhnCheckDigit } from '../../eval/guards/build/pii-values.ts'
import { parseApiKey } from '../../src/auth/api-key-format.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const items = loadCorpus()

test('the corpus has at least 400 labelled items in both languages, benign and malicious, with the hard benign cases', () => {
  assert.ok(items.length >= 400, `only ${items.length} items`)
  for (const lang of ['en', 'zh'] as const) {
    const own = items.filter((i) => i.lang === lang)
    assert.ok(own.filter((i) => i.labels.injection).length >= 40, lang + ' malicious')
    assert.ok(own.filter((i) => !i.labels.injection).length >= 40, lang + ' benign')
  }
  for (const note of ['hard:security-training', 'hard:code', 'hard:customer', 'hard:translation', 'hard:roleplay']) {
    assert.ok(items.filter((i) => i.note === note).length >= 8, note)
  }
  for (const type of ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'cn_resident_id']) {
    assert.ok(items.filter((i) => i.labels.pii.includes(type)).length >= 6, type)
  }
  assert.ok(loadCorpus(holdoutDir).length >= 50)
})

test('synthetic PII and keys carry valid checksums, near-misses do not', () => {
  const cards = items.filter((i) => i.note.startsWith('pii:payment-card')).map((i) => (/\d[\d -]{12,22}\d/.exec(i.text)?.[0] ?? '').replace(/\D/g, ''))
  for (const card of cards) assert.equal(luhnCheckDigit(card.slice(0, -1)), card.slice(-1), card)
  const ids = items.filter((i) => i.note === 'pii:cn-resident-id').map((i) => /\d{17}[\dX]/.exec(i.text)?.[0] ?? '')
  for (const id of ids) assert.equal(cnCheckChar(id.slice(0, 17)), id.slice(17), id)
  const keys = (note: string): string[] => items.filter((i) => i.note === note).map((i) => /pcl_\w{66}/.exec(i.text)?.[0] ?? '')
  assert.ok(keys('secret:portcullis').length >= 4)
  for (const key of keys('secret:portcullis')) assert.notEqual(parseApiKey(key), null, key)
  for (const key of keys('near-miss:portcullis-checksum')) assert.equal(parseApiKey(key), null, key)
})

test('npm run eval:guards meets the issue targets (check mode)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', 'eval/guards/run-eval.ts', '--check'], { cwd: root, timeout: 60_000 })
  assert.match(stdout, /✅ injection F1 ≥ 0\.90/)
  assert.match(stdout, /\| injection \| baseline \| zh/)
  assert.doesNotMatch(stdout, /❌/)
})

test('the generated corpus files are exactly what the seeded generator produces', () => {
  for (const [name, generated] of generatedFiles()) {
    assert.equal(readFileSync(corpusDir + name, 'utf8'), toJsonl(generated), name)
  }
})

test('the injection detector beats the keyword baseline in both languages', () => {
  const { rows } = evaluate(items)
  for (const lang of ['en', 'zh'] as const) {
    const f1 = (variant: string): number => rows.find((r) => r.detector === 'injection' && r.variant === variant && r.lang === lang)?.scores.f1 ?? 0
    assert.ok(f1('guards') > f1('baseline') + 0.3, lang)
  }
  assert.equal(typeof _typeCheckedEntryPoint, 'function')
  assert.ok(targets(evaluate(items)).every((t) => t.met))
})
