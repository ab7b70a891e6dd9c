import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/store.ts'
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'
import { createClientService, type ClientService, type ClientServiceOptions } from '../oauth/client-service.ts'
import { defaultRoles } from '../auth/roles.ts'
import { fastScrypt } from '../oauth/oauth-test-fixture.ts'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import { createAdminTestApp } from './admin-test-app.ts'
import { clientRoutes } from './clients-routes.ts'
import { countCalls } from '../lib/count-calls-fixture.ts'

/** Test support: a client service on a real SQLite store in a temp dir, with a settable clock. */
export interface ClientServiceFixture {
  readonly service: ClientService
  readonly store: Store
  readonly dataDir: string
  /** How often each ClientStore method was called (the real store, counted). */
  readonly calls: Record<string, number>
  /** The service's clock (epoch ms); tests move it forward. */
  readonly clock: { now: number }
}

export async function startClientService (t: TestContext, overrides: Partial<Omit<ClientServiceOptions, 'store' | 'now'>> = {}): Promise<ClientServiceFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-clients-'))
  const store = await openSqliteStore({ dataDir })
  const calls: Record<string, number> = {}
  const clock = { now: Date.now() }
  const service = createClientService({
    roles: defaultRoles, maxGraceSeconds: 86_400, scryptParams: fastScrypt, ...overrides, store: countCalls(store.clients, calls), now: () => clock.now
  })
  t.after(async () => {
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return { service, store, dataDir, calls, clock }
}

/** The admin API with the client routes, authenticated by a real key service, and admin keys of each kind. */
export interface ClientsAdminHarness {
  readonly clients: ClientServiceFixture
  readonly keys: KeyServiceFixture
  readonly app: FastifyInstance
  /** `admin`, no tenant: the operator. */
  readonly operator: string
  /** `admin:clients` only, no tenant. */
  readonly clientsAdmin: string
  /** The `tenant-admin` role bound to tenant `acme`. */
  readonly acmeAdmin: string
  /** `chat` only. */
  readonly chat: string
}

export async function clientsAdminHarness (t: TestContext): Promise<ClientsAdminHarness> {
  const clients = await startClientService(t)
  const keys = await startKeyService(t)
  const app = await createAdminTestApp(t, keys.service, [], clientRoutes(clients.service))
  await app.ready()
  const key = async (name: string, scopes: string[], roles: string[] = [], tenant: string | null = null): Promise<string> =>
    (await keys.service.create({ name, scopes, roles, tenant })).secret
  return {
    clients,
    keys,
    app,
    operator: await key('operator', ['admin']),
    clientsAdmin: await key('clients-admin', ['admin:clients']),
    acmeAdmin: await key('acme-admin', [], ['tenant-admin'], 'acme'),
    chat: await key('chat', ['chat'])
  }
}
