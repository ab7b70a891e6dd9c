import { join } from 'node:path'
import type { Config } from './config/config-schema.ts'
import type { FirstStart } from './cli/startup-banner.ts'
import type { Store } from './store/store.ts'
import type { KeyService } from './auth/key-service.ts'
import { resolveSecret } from './config/secret-ref.ts'
import { createLogger } from './observability/logger.ts'
import { ensureDataDir, loadMasterKey } from './crypto/master-key.ts'
import { openSqliteStore } from './store/sqlite/sqlite-store.ts'
import { createKeyService } from './auth/key-service.ts'
import { buildUpstreams } from './upstream/build-upstreams.ts'
import { createClientIpResolver } from './edge/client-ip.ts'
import { createStages } from './pipeline/stage-order.ts'
import { buildServer } from './server/build-server.ts'
import { registerAdminRoutes } from './admin/admin-routes.ts'
import { shutdownGracefully } from './server/shutdown.ts'

export interface StartOptions {
  readonly config: Readonly<Config>
  /** Where secret references of the `{ env }` kind are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv
  /** Log sink; default stdout. */
  readonly logDestination?: NodeJS.WritableStream
}

export interface RunningGateway {
  readonly url: string
  readonly port: number
  readonly firstStart: FirstStart
  /** e.g. `mock (built-in mock provider)` or `openai, vllm`. */
  readonly upstreamSummary: string
  readonly keys: KeyService
  readonly store: Store
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
  if (config.database_url !== undefined) throw new StartupError('database_url: only the embedded SQLite store is available in this release; PostgreSQL support is not implemented yet (unset PORTCULLIS_DATABASE_URL).')
  if (config.redis_url !== undefined) throw new StartupError('redis_url: shared Redis counters are not implemented yet in this release (unset PORTCULLIS_REDIS_URL).')

  await ensureDataDir(config.data_dir)
  let masterKey: Buffer
  let bootstrapAdminKey: string | null
  try {
    masterKey = await loadMasterKey({ dataDir: config.data_dir, value: await optionalSecret(config.master_key, env) })
    bootstrapAdminKey = await optionalSecret(config.admin_key, env)
  } catch (err) {
    throw new StartupError((err as Error).message)
  }
  const store = await openSqliteStore({ dataDir: config.data_dir })
  const keys = createKeyService({ store: store.keys, masterKey, bootstrapAdminKey, config: config.keys, log: logger })
  const { providers, routes } = await buildUpstreams(config, (ref) => resolveSecret(ref, { env }), logger)
  const mockOnly = config.upstreams.length === 0
  const summary = mockOnly ? 'mock (the built-in mock provider: no provider configured)' : config.upstreams.map((u) => `${u.name} (${u.type})`).join(', ')

  const adminKey = await keys.ensureBootstrapAdmin()
  let demoKey: string | null = null
  if (adminKey !== null && mockOnly) {
    const demo = await keys.create({ name: 'demo', scopes: ['chat', 'completions', 'embeddings', 'models:read'], models: ['mock-*'], expiresAt: Date.now() + 86_400_000, createdBy: 'first-start' })
    demoKey = demo.secret
  }

  const stages = createStages({ resolveClientIp: createClientIpResolver(config.server.trusted_proxies), keys, routes, providers })
  const server = await buildServer({
    logger,
    maxBodyBytes: config.server.max_body_bytes,
    keepAliveTimeoutMs: config.server.keep_alive_timeout_ms,
    stages,
    readiness: { store: () => store.ping() },
    registerAdmin: (app) => registerAdminRoutes(app, { keys })
  })
  await server.app.listen({ host: config.server.host, port: config.server.port })
  const address = server.app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  logger.info({ port, host: config.server.host, data_dir: join(config.data_dir), upstreams: summary }, 'portcullis started')

  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${port}`,
    port,
    firstStart: { adminKey, demoKey },
    upstreamSummary: summary,
    keys,
    store,
    close () {
      closing ??= (async () => {
        await shutdownGracefully(server, config.server.shutdown_timeout_ms, logger)
        await Promise.allSettled([...providers.values()].map((p) => p.close()))
        await keys.close()
        await store.close()
        logger.flush()
      })()
      return closing
    }
  }
}
