import type { CorpusItem } from './corpus-item.ts'
import { addItem, emptyCounts, scores, type Counts, type Scores } from './metrics.ts'
import { baselineInjection, baselinePii, baselineSecrets } from './baseline.ts'
import { createInjectionDetector } from '../../src/guards/injection-detector.ts'
import { detectPii } from '../../src/guards/pii-detector.ts'
import { detectSecrets } from '../../src/guards/secret-detector.ts'

export type DetectorName = 'injection' | 'pii' | 'secret'
export type Variant = 'guards' | 'baseline'
export type Lang = 'all' | 'en' | 'zh'

export interface Row {
  readonly detector: DetectorName
  readonly variant: Variant
  readonly lang: Lang
  readonly items: number
  readonly counts: Counts
  readonly scores: Scores
}

export interface Miss { readonly detector: DetectorName, readonly id: string, readonly note: string, readonly expected: string[], readonly predicted: string[] }

export interface Evaluation {
  readonly rows: Row[]
  /** Items the guards (not the baseline) got wrong, for error analysis. */
  readonly misses: Miss[]
}

/** The PII types the issue sets targets for; other types the detector reports are not scored. */
export const scoredPiiTypes: ReadonlySet<string> = new Set(['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'cn_resident_id'])
/**
 * Catch-all secret types (`Bearer <anything long>`, `password = <high entropy>`): on an item
 * with a labelled secret they describe the same value again, so only count where none is labelled.
 */
const genericSecretTypes: ReadonlySet<string> = new Set(['secret.bearer', 'secret.generic'])

type Predict = (item: CorpusItem) => Set<string>

export function evaluate (items: readonly CorpusItem[], threshold?: number): Evaluation {
  const injection = createInjectionDetector(threshold === undefined ? {} : { threshold })
  const predictors: Record<DetectorName, Record<Variant, Predict>> = {
    injection: {
      guards: (item) => new Set(injection.analyze(item.text).flagged ? ['injection'] : []),
      baseline: (item) => new Set(baselineInjection(item.text) ? ['injection'] : [])
    },
    pii: {
      guards: (item) => new Set(detectPii(item.text).map((f) => f.type).filter((t) => scoredPiiTypes.has(t))),
      baseline: (item) => baselinePii(item.text)
    },
    secret: {
      guards: (item) => secretTypes(item, detectSecrets(item.text).map((f) => f.type)),
      baseline: (item) => baselineSecrets(item.text)
    }
  }
  const rows: Row[] = []
  const misses: Miss[] = []
  for (const detector of ['injection', 'pii', 'secret'] as const) {
    for (const variant of ['guards', 'baseline'] as const) {
      const byLang: Record<Lang, Counts> = { all: emptyCounts(), en: emptyCounts(), zh: emptyCounts() }
      const sizes: Record<Lang, number> = { all: 0, en: 0, zh: 0 }
      for (const item of items) {
        const expected = expectedOf(detector, item)
        const predicted = predictors[detector][variant](item)
        for (const lang of ['all', item.lang] as const) { addItem(byLang[lang], expected, predicted); sizes[lang]++ }
        if (variant === 'guards' && !sameSet(expected, predicted)) {
          misses.push({ detector, id: item.id, note: item.note, expected: [...expected], predicted: [...predicted] })
        }
      }
      for (const lang of ['all', 'en', 'zh'] as const) {
        rows.push({ detector, variant, lang, items: sizes[lang], counts: byLang[lang], scores: scores(byLang[lang]) })
      }
    }
  }
  return { rows, misses }
}

function expectedOf (detector: DetectorName, item: CorpusItem): Set<string> {
  if (detector === 'injection') return new Set(item.labels.injection ? ['injection'] : [])
  return new Set(detector === 'pii' ? item.labels.pii : item.labels.secret)
}

function secretTypes (item: CorpusItem, found: readonly string[]): Set<string> {
  const labelled = item.labels.secret.length > 0
  return new Set(found.filter((t) => !(labelled && genericSecretTypes.has(t))))
}

function sameSet (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x))
}

export interface Target { readonly name: string, readonly met: boolean, readonly value: string }

/** The targets, on the whole corpus (`all`), for the guards. */
export function targets (evaluation: Evaluation): Target[] {
  const row = (detector: DetectorName): Scores => {
    const found = evaluation.rows.find((r) => r.detector === detector && r.variant === 'guards' && r.lang === 'all')
    if (found === undefined) throw new Error('missing row ' + detector)
    return found.scores
  }
  const inj = row('injection')
  const pii = row('pii')
  const sec = row('secret')
  const pct = (x: number): string => (x * 100).toFixed(1) + ' %'
  return [
    { name: 'injection F1 ≥ 0.90', met: inj.f1 >= 0.9, value: inj.f1.toFixed(3) },
    { name: 'injection benign FPR ≤ 2 %', met: inj.fpr <= 0.02, value: pct(inj.fpr) },
    { name: 'PII recall ≥ 0.95', met: pii.recall >= 0.95, value: pii.recall.toFixed(3) },
    { name: 'PII precision ≥ 0.95', met: pii.precision >= 0.95, value: pii.precision.toFixed(3) },
    { name: 'secret recall ≥ 0.95', met: sec.recall >= 0.95, value: sec.recall.toFixed(3) },
    { name: 'secret precision ≥ 0.95', met: sec.precision >= 0.95, value: sec.precision.toFixed(3) }
  ]
}
