import type { Detector, Finding } from './finding.ts'
import { normalize, type NormalizedText } from './normalize.ts'
import { encodedSpansOf } from './scan-text.ts'
import { codeRegions, inRegion, quoteRegions, restOfLine, atLineStart, type Regions } from './injection-context.ts'
import { matchRules, type RawHit } from './injection-matcher.ts'
import { createPrefilter } from './injection-prefilter.ts'
import { chineseDiscussion, chineseRules } from './injection-rules-zh.ts'
import { englishDiscussion, englishRules } from './injection-rules-en.ts'
import { defaultSignalWeights, injectionSignals, type InjectionSignal } from './injection-signals.ts'
import { spacedLetterHits, templateHits } from './injection-structure.ts'
import { injectionText } from './injection-text.ts'

export { injectionSignals, type InjectionSignal } from './injection-signals.ts'

/**
 * Prompt-injection detector: scores one user or tool message in 0..1 from weighted signals
 * (instruction override, role impersonation, chat-template tokens, delimiter injection,
 * system-prompt and secret extraction, jailbreak personas, encoded payloads), in English and
 * Chinese, on text normalised against obfuscation (full-width, zero-width, look-alikes,
 * leetspeak). Context lowers a hit's weight: inside code (×0.3), inside a quotation (×0.4), and
 * in text that discusses prompt injection (×0.5), so security training, code that prints
 * `system:` and translation requests are not mistaken for attacks.
 *
 * Heuristic by nature: it raises the cost of an attack and feeds the audit trail; it is not a
 * proof of safety (see docs/guards.md for the measured precision and recall).
 */
export interface InjectionDetectorOptions {
  /** A message is flagged when its score is at least this. Default 0.5. */
  readonly threshold?: number
  /** Per-signal weight overrides in 0..1; 0 turns a signal off. */
  readonly weights?: Partial<Record<InjectionSignal, number>>
  /** Decode base64/hex/URL-encoded spans and score their content too. Default true. */
  readonly decodeEncoded?: boolean
  /** Most findings returned per message (the score always counts every hit). Default 32. */
  readonly maxFindings?: number
}

export interface InjectionAnalysis {
  /** 0..1: 1 − Π(1 − weight × context factor) over the strongest hit of each signal. */
  readonly score: number
  readonly flagged: boolean
  /** Signals that fired, strongest first: names only, never the matched text. */
  readonly signals: InjectionSignal[]
  /** One finding per hit (type `injection.<signal>`, `score` = the message score), by offset. */
  readonly findings: Finding[]
}

/** An OpenAI-style chat message; `content` may be a string or an array of content parts. */
export interface ChatMessageLike {
  readonly role: string
  readonly content?: unknown
}

export interface MessagesAnalysis {
  /** The highest message score. */
  readonly score: number
  readonly flagged: boolean
  readonly messages: Array<{ readonly index: number, readonly role: string } & InjectionAnalysis>
}

export interface InjectionDetector extends Detector {
  readonly name: 'injection'
  readonly threshold: number
  /**
   * `normalized`, if given, must be `normalize(text)` with default options: a guard stage that
   * also runs `scanNormalized` passes the same object, so the prompt is normalised (and its
   * encoded spans found) once for every detector. Same result as without it.
   */
  analyze (text: string, normalized?: NormalizedText): InjectionAnalysis
  /**
   * Scores the messages the caller controls (`user`, `tool`, `function`); `system` and
   * `developer` messages are set by the application and trusted. `normalizedOf` may hand back a
   * text's normalisation done already (see `analyze`).
   */
  analyzeMessages (messages: readonly ChatMessageLike[], normalizedOf?: (text: string) => NormalizedText | undefined): MessagesAnalysis
}

const CODE_FACTOR = 0.3
const QUOTE_FACTOR = 0.4
const DISCUSSION_FACTOR = 0.5
const MAX_ENCODED_SPANS = 16
const MAX_DECODED_CHARS = 8_192
const SCANNED_ROLES = new Set(['user', 'tool', 'function'])
const allRules = [...englishRules, ...chineseRules]
const prefilter = createPrefilter([...allRules.flatMap((rule) => rule.then === undefined ? [rule.pattern] : [rule.pattern, rule.then]), englishDiscussion, chineseDiscussion])

interface Hit { readonly signal: InjectionSignal, readonly start: number, readonly end: number, readonly weight: number }

export function createInjectionDetector (options: InjectionDetectorOptions = {}): InjectionDetector {
  const threshold = options.threshold ?? 0.5
  if (!(threshold >= 0 && threshold <= 1)) throw new Error('injection detector: threshold must be in 0..1')
  const weights = { ...defaultSignalWeights }
  for (const [name, value] of Object.entries(options.weights ?? {})) {
    if (!(injectionSignals as readonly string[]).includes(name)) throw new Error(`injection detector: unknown signal "${name}"`)
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error(`injection detector: weight of "${name}" must be in 0..1`)
    weights[name as InjectionSignal] = value
  }
  const decodeEncoded = options.decodeEncoded !== false
  const maxFindings = options.maxFindings ?? 32

  function analyze (text: string, normalized?: NormalizedText): InjectionAnalysis {
    const base = normalized !== undefined && normalized.original === text ? normalized : normalize(text)
    const hits = hitsOf(base, weights)
    if (decodeEncoded) hits.push(...encodedHits(base, weights))
    return summarize(hits, threshold, maxFindings)
  }

  return {
    name: 'injection',
    // A hit spans at most a rule window plus two phrases, or a spelled-out run (~600 characters);
    // an encoded payload is one unbroken run, decoded up to MAX_DECODED_CHARS.
    window: 640,
    maxTokenLength: 4 * MAX_DECODED_CHARS / 3,
    threshold,
    analyze,
    detect: (text: string) => {
      const result = analyze(text)
      return result.flagged ? result.findings : []
    },
    analyzeMessages (messages, normalizedOf) {
      const results: MessagesAnalysis['messages'] = []
      messages.forEach((message, index) => {
        if (!SCANNED_ROLES.has(message.role)) return
        const text = textOf(message.content)
        results.push({ index, role: message.role, ...analyze(text, normalizedOf?.(text)) })
      })
      const score = results.reduce((max, r) => Math.max(max, r.score), 0)
      return { score, flagged: score >= threshold && results.some((r) => r.flagged), messages: results }
    }
  }
}

/** Text parts of a message content (string, or `[{ type: 'text', text }]`), joined by newlines. */
export function textOf (content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const part of content) {
    if (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') parts.push((part as { text: string }).text)
  }
  return parts.join('\n')
}

function hitsOf (base: NormalizedText, weights: Readonly<Record<InjectionSignal, number>>): Hit[] {
  const original = base.original
  const norm = injectionText(base)
  const text = norm.text
  if (text.length === 0) return []
  const mayMatch = prefilter.scan(text)
  const raw = [...matchRules(text, allRules, mayMatch), ...templateHits(text, original, norm.toOriginal), ...spacedLetterHits(text)]
  if (raw.length === 0) return []
  const code = codeRegions(original)
  const quotes = quoteRegions(original)
  const discussion = (mayMatch(englishDiscussion) && englishDiscussion.test(text)) || (mayMatch(chineseDiscussion) && chineseDiscussion.test(text)) ? DISCUSSION_FACTOR : 1
  const hits: Hit[] = []
  for (const hit of raw) {
    const span = norm.toOriginal(hit.start, hit.end)
    const factor = placementFactor(hit, span, original, code, quotes)
    if (factor === 0) continue
    hits.push({ signal: hit.signal, start: span.start, end: span.end, weight: weights[hit.signal] * hit.scale * factor * discussion })
  }
  return hits
}

function placementFactor (hit: RawHit, span: { start: number, end: number }, original: string, code: Regions, quotes: Regions): number {
  let factor = 1
  if (hit.rule.lineStart === true) {
    if (!atLineStart(original, span.start)) return 0
    const needs = hit.rule.lineNeeds
    if (needs !== undefined && !needs.test(restOfLine(original, span.end).toLowerCase())) factor = 0.5
  }
  if (inRegion(code, span.start)) return factor * CODE_FACTOR
  if (hit.rule.ignoresQuotes !== true && inRegion(quotes, span.start)) return factor * QUOTE_FACTOR
  return factor
}

/** Scores decoded base64/hex/URL spans; what they hide counts at the encoded span's offsets. */
function encodedHits (base: NormalizedText, weights: Readonly<Record<InjectionSignal, number>>): Hit[] {
  const hits: Hit[] = []
  for (const span of encodedSpansOf(base).slice(0, MAX_ENCODED_SPANS)) {
    const inner = hitsOf(normalize(span.decoded.slice(0, MAX_DECODED_CHARS)), weights)
    if (inner.length === 0) continue
    const { start, end } = base.toOriginal(span.start, span.end)
    for (const hit of inner) hits.push({ signal: hit.signal, start, end, weight: hit.weight })
    hits.push({ signal: 'encoded_payload', start, end, weight: weights.encoded_payload })
  }
  return hits
}

function summarize (hits: readonly Hit[], threshold: number, maxFindings: number): InjectionAnalysis {
  const strongest = new Map<InjectionSignal, number>()
  for (const hit of hits) {
    if (hit.weight > (strongest.get(hit.signal) ?? 0)) strongest.set(hit.signal, hit.weight)
  }
  let keep = 1
  for (const weight of strongest.values()) keep *= 1 - Math.min(1, weight)
  const score = Math.round((1 - keep) * 1000) / 1000
  const signals = [...strongest.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name)
  const findings: Finding[] = hits
    .filter((hit) => hit.weight > 0)
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .slice(0, maxFindings)
    .map((hit) => ({ type: `injection.${hit.signal}`, detector: 'injection', start: hit.start, end: hit.end, score }))
  return { score, flagged: score >= threshold && score > 0, signals, findings }
}
