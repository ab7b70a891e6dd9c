import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { LimitsEngine, Admission } from './limits-engine.ts'
import { addStreamedEvent } from './streamed-output.ts'

/**
 * Rate limits, concurrency and budgets on the request path. `onRequest` reserves (prompt
 * estimate + the output the request may produce) against every limit that applies, in one
 * atomic step, before anything goes upstream; `onComplete` — which always runs — settles the
 * reservation to the real usage, whether the response completed, failed or the client went away.
 */
export function createLimitsStage (options: { engine: LimitsEngine }): Stage {
  const { engine } = options
  // In flight only: onComplete (which always runs) takes each entry out again.
  const admissions = new Map<RequestContext, Admission>()
  return {
    name: 'limits',
    onRequest (ctx) {
      const admission = engine.admit(ctx)
      if (admission instanceof Promise) {
        return admission.then((value) => {
          if (value !== null) admissions.set(ctx, value)
        })
      }
      if (admission !== null) admissions.set(ctx, admission)
    },
    onChunk (ctx, event) {
      // Only in case the usage never arrives (a stream cut short): two additions per event.
      const admission = admissions.get(ctx)
      if (admission !== undefined) addStreamedEvent(admission.output, event.data)
      return event
    },
    onComplete (ctx) {
      const admission = admissions.get(ctx)
      if (admission === undefined) return
      admissions.delete(ctx)
      return engine.settle(ctx, admission)
    }
  }
}
