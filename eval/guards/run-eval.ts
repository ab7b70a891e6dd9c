/**
 * `npm run eval:guards`: scores the injection, PII and secret detectors on the labelled corpus
 * in eval/guards/corpus/ and prints precision, recall, F1 and the benign false-positive rate per
 * detector and language, next to a naive keyword-regex baseline, then the targets.
 *
 *   --check        exit 1 if a target is missed (CI uses this through a test)
 *   --errors       also list the items the guards got wrong (id, category, expected, predicted)
 *   --json         print the evaluation as JSON instead of tables
 *   --threshold=X  injection threshold (default: the detector's default, 0.5)
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { holdoutDir, loadCorpus } from './load-corpus.ts'
import { evaluate, targets, type Evaluation } from './evaluate.ts'

function formatTable (evaluation: Evaluation, only?: string): string {
  const header = ['detector', 'variant', 'lang', 'items', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'benign FPR']
  const lines = [header, ...evaluation.rows.filter((r) => only === undefined || r.detector === only).map((r) => [
    r.detector, r.variant, r.lang, String(r.items), String(r.counts.tp), String(r.counts.fp), String(r.counts.fn),
    r.scores.precision.toFixed(3), r.scores.recall.toFixed(3), r.scores.f1.toFixed(3),
    `${(r.scores.fpr * 100).toFixed(1)} % (${r.counts.benignFlagged}/${r.counts.benign})`
  ])]
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] as string).length)))
  const fmt = (l: string[]): string => '| ' + l.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ') + ' |'
  return [fmt(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...lines.slice(1).map(fmt)].join('\n')
}

export function main (): number {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, errors: { type: 'boolean' }, json: { type: 'boolean' }, threshold: { type: 'string' } }
  })
  const items = loadCorpus()
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold)
  const started = performance.now()
  const evaluation = evaluate(items, threshold)
  const ms = performance.now() - started
  const results = targets(evaluation)
  const holdout = evaluate(loadCorpus(holdoutDir), threshold)
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ items: items.length, ...evaluation, targets: results, holdout: holdout.rows }, null, 2) + '\n')
  } else {
    const en = items.filter((i) => i.lang === 'en').length
    process.stdout.write(`Guard evaluation: ${items.length} items (${en} en, ${items.length - en} zh), ${ms.toFixed(0)} ms, node ${process.version}\n\n`)
    process.stdout.write(formatTable(evaluation) + '\n\nTargets (guards, all languages):\n')
    for (const t of results) process.stdout.write(`  ${t.met ? '✅' : '❌'} ${t.name}: ${t.value}\n`)
    process.stdout.write('\nHeld-out injection set (eval/guards/holdout/, written after the detector was tuned, never tuned on; not part of the targets):\n\n')
    process.stdout.write(formatTable(holdout, 'injection') + '\n')
    if (values.errors === true) {
      process.stdout.write('\nMisclassified by the guards:\n')
      for (const m of evaluation.misses) process.stdout.write(`  ${m.detector} ${m.id} [${m.note}] expected=${m.expected.join(',') || '-'} predicted=${m.predicted.join(',') || '-'}\n`)
    }
  }
  return values.check === true && results.some((t) => !t.met) ? 1 : 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main()
