import type { Endpoint } from '../pipeline/context.ts'

/**
 * Label values for the request metrics. Every label is bounded by construction: a value a caller
 * can choose freely (a model name, a key id) would let anyone with a key create unlimited time
 * series and exhaust the gateway's and Prometheus's memory.
 */

/** The routes' model names as the metrics see them (compiled from `CompiledRoutes`). */
export interface ModelNames {
  readonly exact: Iterable<string>
  readonly prefixes: Iterable<string>
}

/** Maps a requested model to its label: `''` (no model), a configured name, a `prefix*` pattern, or `other`. */
export type ModelLabeler = (model: string | null) => string

/**
 * Only names from the config become labels. An exact route reports the model name; a prefix
 * route (`mock-*`, `qwen2.5-*`) reports its pattern, because the rest of the name is the
 * caller's choice; anything else (a model no route serves) is `other`.
 */
export function createModelLabeler (names: ModelNames): ModelLabeler {
  const exact = new Set(names.exact)
  // Longest prefix first, as the route stage matches.
  const prefixes = [...names.prefixes].sort((a, b) => b.length - a.length)
  return function modelLabel (model) {
    if (model === null) return ''
    if (exact.has(model)) return model
    for (const prefix of prefixes) if (model.startsWith(prefix)) return prefix + '*'
    return 'other'
  }
}

/** OpenTelemetry `gen_ai.operation.name` of each proxied endpoint (well-known values). */
export const operationNames: Readonly<Record<Endpoint, string>> = Object.freeze({
  'chat.completions': 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  models: 'models'
})

/**
 * Label children of one metric, looked up by up to four label values through nested maps: a
 * request's observation costs a few map lookups and builds no key string (prom-client's own
 * `labels()` hashes a label object on every call). Children are created on first use.
 */
export class LabelChildren<C> {
  readonly #root = new Map<string, Map<string, Map<string, Map<string, C>>>>()
  readonly #make: (a: string, b: string, c: string, d: string) => C

  constructor (make: (a: string, b: string, c: string, d: string) => C) {
    this.#make = make
  }

  /** Unused trailing labels are passed as `''` (the make function ignores them). */
  at (a: string, b = '', c = '', d = ''): C {
    let l1 = this.#root.get(a)
    if (l1 === undefined) this.#root.set(a, l1 = new Map())
    let l2 = l1.get(b)
    if (l2 === undefined) l1.set(b, l2 = new Map())
    let l3 = l2.get(c)
    if (l3 === undefined) l2.set(c, l3 = new Map())
    let child = l3.get(d)
    if (child === undefined) l3.set(d, child = this.#make(a, b, c, d))
    return child
  }
}

/** Bounded free-form labels (guard detectors and actions): past `max` distinct values, `other`. */
export function boundedLabel (seen: Set<string>, value: string, max: number): string {
  if (seen.has(value)) return value
  if (seen.size >= max || !/^[a-z][a-z0-9_.-]{0,63}$/.test(value)) return 'other'
  seen.add(value)
  return value
}
