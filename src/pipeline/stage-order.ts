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
import type { Audit } from '../audit/build-audit.ts'
import type { MetricsStages } from '../observability/metrics-stage.ts'
import type { Guards } from '../guards/build-guards.ts'

export interface StageDeps {
  readonly resolveClientIp: ClientIpResolver
  readonly credentials: CredentialAuthenticator
  readonly limits: LimitsEngine
  readonly routes: CompiledRoutes
  readonly providers: ReadonlyMap<string, Provider>
  /** The record stage (first) and the metadata stage (after authentication). */
  readonly audit: Pick<Audit, 'stage' | 'metadataStage'>
  /** Metrics (observability/build-metrics.ts); null when `metrics.enabled` is false. */
  readonly metrics?: MetricsStages | null
  /** Content guards (guards/build-guards.ts); null when `guards.enabled` is false. */
  readonly guards?: Pick<Guards, 'input' | 'output'> | null
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
  const metrics = deps.metrics ?? null
  const guards = deps.guards ?? null
  return Object.freeze([
    deps.audit.stage,
    // Second: its completion runs after settle (sees usage and cost) and still counts a request
    // the record stage refused.
    ...(metrics === null ? [] : [metrics.observe]),
    createEdgeStage({ resolveClientIp: deps.resolveClientIp }),
    createAuthenticateStage({ credentials: deps.credentials }),
    createRequestShapeStage(),
    deps.audit.metadataStage,
    createAuthorizeStage(),
    createLimitsStage({ engine: deps.limits }),
    // After limits (a refused request costs no scan), before route: redaction rewrites the body
    // that is routed and forwarded.
    ...(guards === null ? [] : [guards.input]),
    createRouteStage({ routes: deps.routes, providers: deps.providers }),
    // Right before forward: marks when the upstream call starts (upstream latency, overhead).
    ...(metrics === null ? [] : [metrics.upstreamTimer]),
    createForwardStage(),
    // After forward: sees the answer as forward passes it on (usage chunk already handled).
    ...(guards === null ? [] : [guards.output])
  ])
}
