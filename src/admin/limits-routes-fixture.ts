import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { ModelPrice } from '../limits/default-prices.ts'
import { startKeyService, type KeyServiceFixture } from '../auth/key-service-fixture.ts'
import { createAdminTestApp, keyMinter } from './admin-test-app.ts'
import { policyRoutes } from './policies-routes.ts'
import { priceRoutes } from './prices-routes.ts'
import { usageRoutes } from './usage-routes.ts'

/** Test support: the policy, price and usage routes on a real SQLite store, with admin keys of each kind. */
export interface LimitsAdminHarness extends KeyServiceFixture {
  readonly app: FastifyInstance
  /** How often each route table called `onChange`. */
  readonly changes: { policies: number, prices: number }
  /** `admin`, no tenant: the operator. */
  readonly operator: string
  /** `admin:config` and `admin:usage`, bound to tenant `acme`. */
  readonly acmeAdmin: string
  /** `admin:config` and `admin:usage`, bound to tenant `globex`. */
  readonly globexAdmin: string
  /** `admin:keys` only. */
  readonly keysOnly: string
}

export interface LimitsHarnessOptions {
  /** Config price overrides passed to the price routes. */
  readonly configured?: readonly ModelPrice[]
  /** The usage route's clock (epoch ms). */
  readonly now?: () => number
}

export async function limitsAdminHarness (t: TestContext, options: LimitsHarnessOptions = {}): Promise<LimitsAdminHarness> {
  const f = await startKeyService(t)
  const changes = { policies: 0, prices: 0 }
  const tenantOf = (record: { tenant: string | null } | null): { tenant: string | null } | null => record === null ? null : { tenant: record.tenant }
  const routes = [
    ...policyRoutes({
      policies: f.store.policies,
      findKeyTenant: async (id) => tenantOf(await f.store.keys.get(id)),
      findClientTenant: async (id) => tenantOf(await f.store.clients.get(id)),
      onChange: () => { changes.policies++ },
      now: () => f.clock.now
    }),
    ...priceRoutes({ prices: f.store.prices, configured: options.configured ?? [], onChange: async () => { changes.prices++ }, now: () => f.clock.now }),
    ...usageRoutes({ usage: f.store.usage, now: options.now ?? (() => f.clock.now) })
  ]
  const app = await createAdminTestApp(t, f.service, [], routes)
  await app.ready()
  const key = keyMinter(f.service)
  return {
    ...f,
    app,
    changes,
    operator: await key('operator', ['admin']),
    acmeAdmin: await key('acme-admin', ['admin:config', 'admin:usage'], 'acme'),
    globexAdmin: await key('globex-admin', ['admin:config', 'admin:usage'], 'globex'),
    keysOnly: await key('keys-admin', ['admin:keys'])
  }
}

export interface Answer {
  readonly status: number
  // The JSON body, loosely typed for assertions.
  readonly body: any
  readonly text: string
}

/** One admin API call with a bearer key. */
export async function call (h: LimitsAdminHarness, method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: unknown): Promise<Answer> {
  const res = await h.app.inject({
    method, url: '/admin/v1' + url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as object })
  })
  return { status: res.statusCode, body: res.json(), text: res.body }
}
