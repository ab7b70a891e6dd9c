import type { RawHit } from './injection-matcher.ts'
import type { InjectionRule } from './injection-signals.ts'
import { atLineStart } from './injection-context.ts'

/**
 * Signals that need more than one regex: chat-template tokens (a forged turn vs. a question
 * about the tokens) and words spelled out letter by letter (`i g n o r e …`).
 */

const templateToken = /<\|[a-z_]{2,30}\|>|\[\/?inst\]|<<\/?sys>>|<\/?s>|<(?:start|end)_of_turn>/g
const roleAfter = /^ ?(?:system|user|assistant|model|developer)\b/
const templateRule: InjectionRule = { signal: 'template_tokens', pattern: templateToken }
/** A single token mentioned in prose ("what does <|im_start|> do?") is weak evidence. */
const MENTION_SCALE = 0.25

/**
 * Template tokens are structural (a forged chat turn) when there are three or more, or one opens
 * a line, or one is followed by a role name (`<|im_start|>system`); otherwise they are a mention.
 */
export function templateHits (text: string, original: string, toOriginal: (s: number, e: number) => { start: number }): RawHit[] {
  const found = [...text.matchAll(templateToken)]
  const hits: RawHit[] = []
  for (const m of found) {
    const end = m.index + m[0].length
    const structural = found.length >= 3 ||
      roleAfter.test(text.slice(end, end + 12)) ||
      atLineStart(original, toOriginal(m.index, end).start)
    hits.push({ signal: 'template_tokens', start: m.index, end, scale: structural ? 1 : MENTION_SCALE, rule: templateRule })
  }
  return hits
}

const spacedRun = /(?:\b[a-z] ){5,300}[a-z]\b/g
const squashedPhrases: ReadonlyArray<readonly [RegExp, InjectionRule]> = [
  [/(?:ignore|disregard|forget)(?:all|the|your|any){0,2}(?:previous|prior|above|earlier)?(?:instructions|rules|prompt|guidelines)/, { signal: 'instruction_override', pattern: spacedRun }],
  [/(?:reveal|print|show|output)(?:your|the)?(?:systemprompt|instructions|hiddenprompt)|systemprompt/, { signal: 'prompt_extraction', pattern: spacedRun }],
  [/developermode|norestrictions|doanythingnow|jailbreak/, { signal: 'jailbreak_persona', pattern: spacedRun }]
]

/** Letters separated by single spaces, joined and checked for the key phrases. */
export function spacedLetterHits (text: string): RawHit[] {
  const hits: RawHit[] = []
  for (const m of text.matchAll(spacedRun)) {
    const squashed = m[0].replaceAll(' ', '')
    for (const [phrase, rule] of squashedPhrases) {
      if (phrase.test(squashed)) hits.push({ signal: rule.signal, start: m.index, end: m.index + m[0].length, scale: 1, rule })
    }
  }
  return hits
}
