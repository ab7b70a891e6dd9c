import type { Metric } from 'prom-client'
import { LabelChildren } from './metrics-labels.ts'

/**
 * Counters and histograms for the request path. prom-client's own instruments hash a label
 * object and validate it on every observation: 225 ns per counter increment and 411 ns per
 * histogram observation, against 27 ns and 80 ns here (`node src/observability/bench-metrics.ts`,
 * Node 24.21, 2-core AMD EPYC VM); nine observations per request would otherwise take a visible
 * share of the 5 % budget audit and metrics share. Each series is plain numbers reached through
 * nested maps; prom-client gets the values only at scrape time, through the metric object
 * contract its `Registry` reads (`name`, `help`, `type`, `aggregator`, `get()`), and still
 * formats the exposition and owns the registry. metrics-registry.test.ts pins that contract.
 */

type Labels = Readonly<Record<string, string>>

interface InstrumentOptions {
  readonly name: string
  readonly help: string
  /** At most four, in the order `at()` takes the values. */
  readonly labelNames: readonly string[]
}

interface Sample {
  readonly metricName?: string
  readonly labels: Readonly<Record<string, string | number>>
  readonly value: number
}

function labelsOf (names: readonly string[], values: readonly string[]): Labels {
  const labels: Record<string, string> = {}
  for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string
  return Object.freeze(labels)
}

/** One time series of a counter. */
export class CounterSeries {
  readonly labels: Labels
  value = 0
  constructor (labels: Labels) {
    this.labels = labels
  }

  inc (by = 1): void {
    this.value += by
  }
}

/** One time series of a histogram: per-bucket counts (the last one is `+Inf`), sum and count. */
export class HistogramSeries {
  readonly labels: Labels
  readonly #bounds: readonly number[]
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor (labels: Labels, bounds: readonly number[]) {
    this.labels = labels
    this.#bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (value: number): void {
    const bounds = this.#bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.sum += value
    this.count++
  }
}

abstract class Instrument<S extends { readonly labels: Labels }> {
  readonly name: string
  readonly help: string
  readonly aggregator = 'sum' as const
  readonly #series: S[] = []
  readonly #children: LabelChildren<S>

  constructor (options: InstrumentOptions) {
    if (options.labelNames.length > 4) throw new RangeError(`${options.name}: at most four labels`)
    this.name = options.name
    this.help = options.help
    this.#children = new LabelChildren((a, b, c, d) => {
      const series = this.newSeries(labelsOf(options.labelNames, [a, b, c, d]))
      this.#series.push(series)
      return series
    })
  }

  protected abstract newSeries (labels: Labels): S

  /** The series for these label values (in `labelNames` order), created on first use. */
  at (a = '', b = '', c = '', d = ''): S {
    return this.#children.at(a, b, c, d)
  }

  protected get series (): readonly S[] {
    return this.#series
  }

  /** Registers with a prom-client registry (see the module comment for the contract). */
  registerIn (registry: { registerMetric (metric: Metric): void }): this {
    registry.registerMetric(this as unknown as Metric)
    return this
  }
}

/** A monotonic counter; `name` ends in `_total`. */
export class LeanCounter extends Instrument<CounterSeries> {
  readonly type = 'counter' as const
  protected newSeries (labels: Labels): CounterSeries {
    return new CounterSeries(labels)
  }

  async get (): Promise<{ name: string, help: string, type: 'counter', aggregator: 'sum', values: Sample[] }> {
    const values = this.series.map((s) => ({ labels: s.labels, value: s.value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}

/** A histogram with fixed bucket upper bounds (ascending); exposes `_bucket`, `_sum`, `_count`. */
export class LeanHistogram extends Instrument<HistogramSeries> {
  readonly type = 'histogram' as const
  readonly #bounds: readonly number[]
  constructor (options: InstrumentOptions & { readonly buckets: readonly number[] }) {
    super(options)
    this.#bounds = Object.freeze([...options.buckets])
  }

  protected newSeries (labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.#bounds)
  }

  async get (): Promise<{ name: string, help: string, type: 'histogram', aggregator: 'sum', values: Sample[] }> {
    const values: Sample[] = []
    const bucket = this.name + '_bucket'
    for (const s of this.series) {
      let cumulative = 0
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += s.counts[i] as number
        const le = i < this.#bounds.length ? this.#bounds[i] as number : '+Inf'
        values.push({ metricName: bucket, labels: { ...s.labels, le }, value: cumulative })
      }
      values.push({ metricName: this.name + '_sum', labels: s.labels, value: s.sum })
      values.push({ metricName: this.name + '_count', labels: s.labels, value: s.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}
