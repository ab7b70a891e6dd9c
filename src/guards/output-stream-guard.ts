import type { Detector, Finding } from './finding.ts'
import type { GuardPolicy } from './guard-policy.ts'
import type { MatcherGroup } from './scan-text.ts'
import { blockedError, classifyFindings, type GuardDecision } from './guard-decisions.ts'
import { outputTypePrefix } from './guard-session.ts'
import { piiMaxTokenLength, piiWindow } from './pii-detector.ts'
import { createRedactor, type Redactor, type StreamRestorer } from './redactor.ts'
import { scanText } from './scan-text.ts'
import { secretMaxTokenLength, secretWindow } from './secret-detector.ts'
import { createStreamScanner, type ScannedChunk, type StreamScanner } from './stream-scanner.ts'
import { sampleCollectLimit } from './record-sample.ts'

/**
 * The output guards over one streamed answer: a stream scanner per choice (so a value split
 * across chunks is seen whole), output redaction, then — when values were redacted on input with
 * `restore` — the caller's values put back. Text comes out in order, lagging by the scanner's
 * hold-back (about 80 characters of prose); `end(choice)` flushes it.
 */
export interface OutputStreamGuard {
  /** The text of a content delta as the client may see it now (may be ''). Throws `content_blocked`. */
  push (choice: number, delta: string): string
  /** Flushes what the choice still holds back; '' once already flushed. */
  end (choice: number): string
  /** Choices that still hold text (the upstream ended without a finish chunk). */
  pending (): number[]
  /** Decisions for the audit record, one per detector and action taken. */
  decisions (): GuardDecision[]
  /** The model's own text so far (before redaction and restore), for a masked sample. */
  readonly collected: string
}

interface ChoiceState {
  readonly scanner: StreamScanner | null
  readonly restorer: StreamRestorer | null
  offset: number
  ended: boolean
}

/** One detector running PII and secrets over one normalisation, as the stream scanner needs. */
export function combinedDetector (groups: readonly MatcherGroup[]): Detector {
  const pii = groups.some((g) => g.kind === 'pii')
  const secret = groups.some((g) => g.kind === 'secret')
  return {
    name: 'output',
    window: Math.max(pii ? piiWindow : 0, secret ? secretWindow : 0),
    maxTokenLength: Math.max(pii ? piiMaxTokenLength : 0, secret ? secretMaxTokenLength : 0),
    detect: (text) => scanText(text, groups)
  }
}

/** `email` → `redacted.email`, so output placeholders read `[REDACTED_EMAIL_1]`. */
export function forOutput (findings: readonly Finding[]): Finding[] {
  return findings.map((f) => ({ ...f, type: outputTypePrefix + f.type }))
}

export function createOutputStreamGuard (policy: GuardPolicy, restorer: Redactor | null, sampleChars: number | null): OutputStreamGuard {
  const { groups, pii, secret } = policy.output
  const detectors = groups.length === 0 ? null : [combinedDetector(groups)]
  const redactor = createRedactor()
  const choices = new Map<number, ChoiceState>()
  const found: Finding[] = []
  const collectLimit = sampleChars === null ? 0 : sampleCollectLimit(sampleChars)
  let collected = ''
  let ms = 0

  function state (index: number): ChoiceState {
    let s = choices.get(index)
    if (s === undefined) {
      s = { scanner: detectors === null ? null : createStreamScanner(detectors), restorer: restorer?.createStreamRestorer() ?? null, offset: 0, ended: false }
      choices.set(index, s)
    }
    return s
  }

  function pass (s: ChoiceState, chunk: ScannedChunk): string {
    let text = chunk.text
    if (chunk.findings.length > 0) {
      const acted = chunk.findings.filter((f) => f.detector !== 'injection' && policy.output[f.detector].actionFor(f.type) !== 'off')
      found.push(...acted)
      const blocked = acted.filter((f) => f.detector !== 'injection' && policy.output[f.detector].actionFor(f.type) === 'block')
      if (blocked.length > 0) throw blockedError('output', classifyFindings('output', blocked, { pii, secret }, 0).blocked)
      const redact = acted.filter((f) => f.detector !== 'injection' && policy.output[f.detector].actionFor(f.type) === 'redact')
      if (redact.length > 0) text = redactor.redact(text, forOutput(redact), chunk.offset)
    }
    if (collected.length < collectLimit) collected += chunk.text
    return s.restorer === null ? text : s.restorer.push(text)
  }

  function run (s: ChoiceState, step: () => ScannedChunk): string {
    const started = performance.now()
    try {
      return pass(s, step())
    } finally {
      ms += performance.now() - started
    }
  }

  return {
    push (index, delta) {
      const s = state(index)
      if (s.ended) return delta
      if (s.scanner === null) {
        const chunk = { text: delta, offset: s.offset, findings: [] }
        s.offset += delta.length
        return run(s, () => chunk)
      }
      const scanner = s.scanner
      return run(s, () => scanner.push(delta))
    },
    end (index) {
      const s = state(index)
      if (s.ended) return ''
      s.ended = true
      const scanner = s.scanner
      const text = scanner === null ? '' : run(s, () => scanner.end())
      return s.restorer === null ? text : text + s.restorer.end()
    },
    pending () {
      return [...choices].filter(([, s]) => !s.ended).map(([index]) => index)
    },
    decisions () {
      return classifyFindings('output', found, { pii, secret }, Math.round(ms * 1000) / 1000).decisions
    },
    get collected () { return collected }
  }
}
