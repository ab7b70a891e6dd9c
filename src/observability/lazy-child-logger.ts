import type { Bindings, ChildLoggerOptions, Logger as PinoLogger } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
const levels: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']

/**
 * Fastify gives every request a child logger. Building a pino child (bindings serialized, the
 * redaction compiled in) cost ~2.5 % of CPU per request while most requests log nothing at all
 * (profiled). This stands in for the child and creates it on the first line actually written;
 * a call below the configured level costs one comparison.
 */
export function createLazyChildLogger (parent: PinoLogger, bindings: Bindings, options: ChildLoggerOptions | undefined): PinoLogger {
  let child: PinoLogger | null = null
  const real = (): PinoLogger => (child ??= parent.child(bindings, options))
  const lazy = Object.create(parent) as PinoLogger & Record<Level, (...args: unknown[]) => void>
  for (const level of levels) {
    lazy[level] = function log (...args: unknown[]) {
      if (!parent.isLevelEnabled(level)) return
      ;(real()[level] as (...a: unknown[]) => void)(...args)
    }
  }
  lazy.child = ((more: Bindings, opts?: ChildLoggerOptions) => real().child(more, opts)) as unknown as PinoLogger['child']
  return lazy
}
