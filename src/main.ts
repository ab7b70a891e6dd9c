import { join } from 'node:path'
import type { Config } from './config/config-schema.ts'
import type { FirstStart } from './cli/startup-banner.ts'
import type { Store } from './store/store.ts'
import type { KeyService } from './auth/key-service.ts'
import type { ClientService } from './oauth/client-service.ts'
import type { ScryptParams } from './oauth/client-secret.ts'
import { resolveSecret } from './config/secret-ref.ts'
import { createLogger } from './observability/logger.ts'
import { ensureDataDir, loadMasterKey } from './crypto/master-key.ts'
import { openBackends, type Backends } from './cluster/open-backends.ts'
import { applyRemoteChanges } from './cluster/broadcast-changes.ts'
import { buildLimits, type Limits } from './limits/build-limits.ts'
import { buildAudit, type Audit } from './audit/build-audit.ts'
import { buildAuditSearch, type AuditSearch } from './audit/build-audit-search.ts'
import { createEvidenceSink, discardingEvidenceSink } from './audit/evidence-sink.ts'
import { startAuditRetention } from './audit/audit-retention.ts'
import { buildIdentity, type Identity } from './auth/build-identity.ts'
import { checkIssuer } from './oauth/authorization-server-metadata.ts'
import { buildUpstreams } from './upstream/build-upstreams.ts'
import { createClientIpResolver } from './edge/client-ip.ts'
import { createStages } from './pipeline/stage-order.ts'
import { buildServer } from './server/build-server.ts'
import { registerAdminRoutes } from './admin/admin-routes.ts'
import { shutdownGracefully } from './server/shutdown.ts'
import { buildMetrics, type Metrics } from './observability/build-metrics.ts'
import { buildGuards } from './guards/build-guards.ts'
import { registerMetricsRoute, startMetricsListener, type MetricsListener } from './server/metrics-routes.ts'

export interface StartOptions {
  readonly config: Readonly<Config>
  /** Where secret references of the `{ env }` kind are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv
  /** Log sink; default stdout. */
  readonly logDestination?: NodeJS.WritableStream
  /** Cost of OAuth client secret hashes; tests lower it. */
  readonly scryptParams?: ScryptParams
}

export interface RunningGateway {
  readonly url: string
  readonly port: number
  readonly firstStart: FirstStart
  /** e.g. `mock (built-in mock provider)` or `openai, vllm`. */
  readonly upstreamSummary: string
  readonly keys: KeyService
  readonly clients: ClientService
  readonly store: Store
  readonly limits: Limits
  /** The request audit log: writer, record stage, listeners for other sinks. */
  readonly audit: Audit
  /** Request metrics (docs/metrics.md); `guardVerdict` is for the content guards. */
  readonly metrics: Metrics
  /** The unauthenticated metrics listener (`metrics.listen`), or null. */
  readonly metricsUrl: string | null
  /** Method, path and required scope of every admin route (for authorisation tests and docs). */
  readonly adminRoutes: ReadonlyArray<{ readonly method: string, readonly url: string, readonly scope: string }>
  /** Drains in-flight requests (bounded by `server.shutdown_timeout_ms`) and releases everything. */
  close (): Promise<void>
}

/** A start-up failure with a message fit for the terminal (no stack, no secrets). */
export class StartupError extends Error {
  override name = 'StartupError'
}

async function optionalSecret (ref: Config['master_key'], env: NodeJS.ProcessEnv): Promise<string | null> {
  return ref === undefined ? null : await resolveSecret(ref, { env })
}

/** The composition root: config → data dir → keys → store → upstreams → pipeline → server. */
export async function startGateway (options: StartOptions): Promise<RunningGateway> {
  const { config } = options
  const env = options.env ?? process.env
  const logger = createLogger({ level: config.log.level, ...(options.logDestination === undefined ? {} : { destination: options.logDestination }) })
  if (config.oauth.enabled) checkOAuthIssuer(config)

  await ensureDataDir(config.data_dir)
  let masterKey: Buffer
  let bootstrapAdminKey: string | null
  let backends: Backends
  try {
    masterKey = await loadMasterKey({ dataDir: config.data_dir, value: await optionalSecret(config.master_key, env) })
    bootstrapAdminKey = await optionalSecret(config.admin_key, env)
    backends = await openBackends(config, {
      databaseUrl: await optionalSecret(config.database_url, env),
      redisUrl: await optionalSecret(config.redis_url, env)
    }, logger)
  } catch (err) {
    throw new StartupError((err as Error).message)
  }
  const { store, bus } = backends
  const resolveClientIp = createClientIpResolver(config.server.trusted_proxies)
  let identity: Identity
  let limits: Limits
  let audit: Audit
  let auditSearch: AuditSearch
  try {
    audit = await buildAudit({ config, masterKey, log: logger })
  } catch (err) {
    await backends.close()
    throw new StartupError((err as Error).message)
  }
  try {
    // With PostgreSQL, sealed records are mirrored to a table that search reads (docs/audit.md).
    const databaseUrl = store.kind === 'postgres' ? await optionalSecret(config.database_url, env) : null
    auditSearch = await buildAuditSearch({ audit, databaseUrl, databaseSchema: config.database_schema, log: logger })
  } catch (err) {
    await audit.close()
    await backends.close()
    throw new StartupError((err as Error).message)
  }
  // Admin actions and OAuth requests go into the same chain as proxy requests.
  // With `audit.enabled: false` (a loud warning at start) admin and OAuth actions leave no record.
  const evidence = audit.enabled ? createEvidenceSink(audit, { onFailure: config.audit.on_failure, log: logger }) : discardingEvidenceSink()
  try {
    identity = await buildIdentity({
      config, store, masterKey, bootstrapAdminKey, log: logger, resolveClientIp, bus, audit: evidence,
      resolveSecret: (ref) => resolveSecret(ref, { env }),
      ...(options.scryptParams === undefined ? {} : { scryptParams: options.scryptParams })
    })
    limits = await buildLimits({ config, store, redis: backends.redis, bus, log: logger })
  } catch (err) {
    await audit.close()
    await auditSearch.close()
    await backends.close()
    throw new StartupError((err as Error).message)
  }
  applyRemoteChanges(identity.local, bus, logger, () => limits.reload())
  const { keys } = identity
  const { providers, routes } = await buildUpstreams(config, (ref) => resolveSecret(ref, { env }), logger)
  const mockOnly = config.upstreams.length === 0
  const summary = mockOnly ? 'mock (the built-in mock provider: no provider configured)' : config.upstreams.map((u) => `${u.name} (${u.type})`).join(', ')

  const adminKey = await keys.ensureBootstrapAdmin()
  let demoKey: string | null = null
  if (adminKey !== null && mockOnly) {
    const demo = await keys.create({ name: 'demo', scopes: ['chat', 'completions', 'embeddings', 'models:read'], models: ['mock-*'], expiresAt: Date.now() + 86_400_000, createdBy: 'first-start' })
    demoKey = demo.secret
  }

  const metrics = buildMetrics({ config, routes, auditStatus: () => audit.enabled ? audit.writer.status() : null })
  const retentionDays = config.audit.retention_days
  const retention = retentionDays === undefined || !audit.enabled ? null : startAuditRetention({ dir: audit.dir, retentionDays, append: audit.append, writer: audit.writer, log: logger })
  let guards
  try {
    guards = await buildGuards({ config: config.guards, resolveSecret: (ref) => resolveSecret(ref, { env }), verdict: metrics.guardVerdict })
  } catch (err) {
    throw new StartupError((err as Error).message)
  }
  const stages = createStages({ resolveClientIp, credentials: identity.credentials, limits: limits.engine, routes, providers, audit, metrics: metrics.stages, guards })
  const registry = metrics.registry
  const server = await buildServer({
    logger,
    maxBodyBytes: config.server.max_body_bytes,
    keepAliveTimeoutMs: config.server.keep_alive_timeout_ms,
    stages,
    resolveClientIp,
    readiness: { ...backends.readiness, ...(audit.enabled ? { audit: async () => { const r = audit.ready(); if (!r.ok) throw new Error(r.detail) } } : {}) },
    registerAdmin: (app) => registerAdminRoutes(app, { credentials: identity.credentials, resolveClientIp, routes: [...identity.adminRoutes, ...limits.adminRoutes, ...auditSearch.adminRoutes], audit: evidence }),
    ...(identity.registerOAuth === null ? {} : { registerOAuth: identity.registerOAuth }),
    ...(registry === null ? {} : { registerMetrics: (app) => registerMetricsRoute(app, { metrics: registry, credentials: identity.credentials, resolveClientIp }) })
  })
  await server.app.listen({ host: config.server.host, port: config.server.port })
  const listen = config.metrics.listen
  let metricsListener: MetricsListener | null = null
  if (registry !== null && listen !== undefined) {
    try {
      metricsListener = await startMetricsListener({ host: listen.host, port: listen.port, metrics: registry, logger })
    } catch (err) {
      await server.app.close()
      throw new StartupError(`metrics.listen: ${(err as Error).message}`)
    }
    logger.info({ url: metricsListener.url }, 'unauthenticated metrics listener started (metrics.listen)')
  }
  const address = server.app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  await identity.start(`http://${host}:${port}`)
  logger.info({ port, host: config.server.host, data_dir: join(config.data_dir), upstreams: summary }, 'portcullis started')

  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${port}`,
    port,
    firstStart: { adminKey, demoKey },
    upstreamSummary: summary,
    keys,
    clients: identity.clients,
    store,
    limits,
    audit,
    metrics,
    metricsUrl: metricsListener?.url ?? null,
    adminRoutes: [...identity.adminRoutes, ...limits.adminRoutes, ...auditSearch.adminRoutes].map((r) => ({ method: r.method, url: `/admin/v1${r.url}`, scope: r.scope })),
    close () {
      closing ??= (async () => {
        await shutdownGracefully(server, config.server.shutdown_timeout_ms, logger)
        await metricsListener?.close()
        await Promise.allSettled([...providers.values()].map((p) => p.close()))
        await guards?.close()
        await limits.close()
        await retention?.stop()
        // After the drain and the settle: every request is recorded before the final checkpoint.
        await audit.close()
        await auditSearch.close()
        await identity.close()
        await backends.close()
        logger.flush()
      })()
      return closing
    }
  }
}

/**
 * The issuer is the `iss` of every token and where clients fetch metadata, so it must be a URL
 * they reach. Without `oauth.issuer` it is the listener's own URL, which is right only on loopback.
 */
function checkOAuthIssuer (config: Readonly<Config>): void {
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.server.host)
  if (config.oauth.issuer === undefined) {
    if (!loopback) throw new StartupError('oauth.issuer: set the public https URL of the gateway (PORTCULLIS_OAUTH_ISSUER) when it listens beyond loopback, or set oauth.enabled: false')
    return
  }
  try {
    checkIssuer(config.oauth.issuer)
  } catch (err) {
    throw new StartupError(`oauth.issuer: ${(err as Error).message}`)
  }
}
