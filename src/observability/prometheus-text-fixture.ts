// Test fixture: reads the text exposition back, so tests assert what a scraper would see.
/** One sample line of the Prometheus text exposition format 0.0.4. */
export interface PromSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses the sample lines (comments skipped); throws on a line that is not a sample. */
export function parsePrometheusText (text: string): PromSample[] {
  const samples: PromSample[] = []
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue
    const match = line.exec(raw)
    if (match === null) throw new Error(`not a sample line: ${raw}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(label)) {
      labels[key as string] = (value as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3])
    samples.push({ name: match[1] as string, labels, value })
  }
  return samples
}

/** Samples of `name` whose labels include every given one. */
export function samplesOf (samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): PromSample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

/** Sum of the matching samples' values; 0 when none match. */
export function sumOf (samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): number {
  return samplesOf(samples, name, labels).reduce((total, s) => total + s.value, 0)
}
