/**
 * Reads the verdict out of a guard model's chat completion. Two families are understood:
 *
 * - **Llama Guard** (Meta, 1–4): the assistant text is `safe`, or `unsafe` followed by a line
 *   of comma-separated hazard categories (`unsafe\nS1,S10`; Llama Guard 1/2 use `O1…`).
 * - **Prompt Guard style classifiers** served behind a chat endpoint: the text is a label
 *   (`BENIGN`, `INJECTION`, `JAILBREAK`, `MALICIOUS`, `SAFE`, `UNSAFE`), or JSON
 *   `{"label": "INJECTION", "score": 0.98}`, or an array of such objects (the highest-scoring
 *   non-benign label decides). A score below `threshold` counts as benign.
 *
 * Anything else is `null` (unparseable), which the client treats as an error under its
 * fail-open/closed policy: guessing a verdict from free text would be an unmeasured detector.
 */
export interface ParsedVerdict {
  readonly unsafe: boolean
  /** Llama Guard categories (`S1`…) or the Prompt Guard label; empty when safe. */
  readonly categories: string[]
  /** The classifier's score where it gives one, else null. */
  readonly score: number | null
}

const BENIGN = new Set(['benign', 'safe'])
const MALICIOUS = new Set(['injection', 'jailbreak', 'malicious', 'unsafe'])

export function parseVerdict (content: string, threshold = 0.5): ParsedVerdict | null {
  const text = content.trim()
  const [firstLine = '', secondLine = ''] = text.split('\n', 2).map((line) => line.trim())
  const first = firstLine.toLowerCase()
  if (first === 'safe') return { unsafe: false, categories: [], score: null }
  if (first === 'unsafe') {
    const categories = secondLine.split(',').map((c) => c.trim()).filter((c) => /^[A-Za-z]{0,2}\d{1,3}$/.test(c))
    return { unsafe: true, categories, score: null }
  }
  if (text.startsWith('{') || text.startsWith('[')) return fromJson(text, threshold)
  return fromLabel(first, null, threshold)
}

function fromLabel (label: string, score: number | null, threshold: number): ParsedVerdict | null {
  const name = label.toLowerCase().replace(/^label_/, '')
  if (BENIGN.has(name)) return { unsafe: false, categories: [], score }
  if (!MALICIOUS.has(name)) return null
  if (score !== null && score < threshold) return { unsafe: false, categories: [], score }
  return { unsafe: true, categories: [name.toUpperCase()], score }
}

function fromJson (text: string, threshold: number): ParsedVerdict | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  const entries = (Array.isArray(value) ? value : [value]).filter(isLabelled)
  if (entries.length === 0) return null
  const verdicts = entries.map((e) => fromLabel(e.label, typeof e.score === 'number' ? e.score : null, threshold))
  if (verdicts.some((v) => v === null)) return null
  const unsafe = (verdicts as ParsedVerdict[]).filter((v) => v.unsafe).sort((a, b) => (b.score ?? 1) - (a.score ?? 1))
  return unsafe[0] ?? (verdicts[0] as ParsedVerdict)
}

function isLabelled (value: unknown): value is { label: string, score?: unknown } {
  return value !== null && typeof value === 'object' && typeof (value as { label?: unknown }).label === 'string'
}
