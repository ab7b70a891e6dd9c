import type { Logger } from './context.ts'

/** A Logger that writes nothing: for tests and tools that run stages without a server. */
export const silentLog: Logger = Object.freeze({
  error () {},
  warn () {},
  info () {},
  debug () {},
  isLevelEnabled: () => false
})
