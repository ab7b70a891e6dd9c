import type { Stage } from './stage.ts'
import type { ClientIpResolver } from '../edge/client-ip.ts'
import type { CredentialAuthenticator } from '../auth/credential-authenticator.ts'
import type { Provider } from '../upstream/provider.ts'
import type { CompiledRoutes } from '../upstream/build-upstreams.ts'
import { createEdgeStage } from '../edge/edge-stage.ts'
import { createRequestShapeStage } from '../edge/request-shape-stage.ts'
import { createAuthenticateStage } from '../auth/authenticate-stage.ts'
import { createAuthorizeStage } from '../auth/authorize-stage.ts'
import { createRouteStage } from '../upstream/route-stage.ts'
import { createLimitsStage } from '../limits/limits-stage.ts'
import type { LimitsEngine } from '../limits/limits-engine.ts'
import { createForwardStage } from '../upstream/forward-stage.ts'

export interface StageDeps {
  readonly resolveClientIp: ClientIpResolver
  readonly credentials: CredentialAuthenticator
  readonly limits: LimitsEngine
  readonly routes: CompiledRoutes
  readonly providers: ReadonlyMap<string, Provider>
}

/**
 * The order of the request path — the one place it is written down. Completion runs in reverse,
 * which decides where later issues slot in: the record stage (audit, metrics) goes FIRST, so its
 * `onRequest` can refuse with 503 while the audit sink is down and its `onComplete` runs last,
 * after settle, seeing the final outcome; rate limit and budget after authorize (their
 * `onComplete` releases and settles before record reads usage); input guards before route;
 * output guards after forward (their `onChunk`).
 */
export function createStages (deps: StageDeps): readonly Stage[] {
  return Object.freeze([
    createEdgeStage({ resolveClientIp: deps.resolveClientIp }),
    createAuthenticateStage({ credentials: deps.credentials }),
    createRequestShapeStage(),
    createAuthorizeStage(),
    createLimitsStage({ engine: deps.limits }),
    createRouteStage({ routes: deps.routes, providers: deps.providers }),
    createForwardStage()
  ])
}
