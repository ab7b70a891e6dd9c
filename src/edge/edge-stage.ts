import type { Stage } from '../pipeline/stage.ts'
import type { ClientIpResolver } from './client-ip.ts'

/** First stage: establishes the client address (trusted-proxy aware) for every later stage. */
export function createEdgeStage (options: { resolveClientIp: ClientIpResolver }): Stage {
  const { resolveClientIp } = options
  return {
    name: 'edge',
    onRequest (ctx) {
      ctx.clientIp = resolveClientIp(ctx.socketIp, ctx.headers['x-forwarded-for'])
    }
  }
}
