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
  const admissions = new WeakMap<RequestContext, Admission>()
  return {
    name: 'limits',
    async onRequest (ctx) {
      const admission = await engine.admit(ctx)
      if (admission !== null) admissions.set(ctx, admission)
    },
    onChunk (ctx, event) {
      // Only in case the usage never arrives (a stream cut short): two additions per event.
      const admission = admissions.get(ctx)
      if (admission !== undefined) addStreamedEvent(admission.output, event.data)
      return event
    },
    async onComplete (ctx) {
      const admission = admissions.get(ctx)
      if (admission === undefined) return
      admissions.delete(ctx)
      await engine.settle(ctx, admission)
    }
  }
}
