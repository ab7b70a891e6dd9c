import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import type { Store } from '../store/store.ts'
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'
import { createKeyService, type KeyService, type KeyServiceOptions } from './key-service.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { countCalls } from '../lib/count-calls-fixture.ts'

/** Test support: a key service on a real SQLite store in a temp dir, with a settable clock. */
export interface KeyServiceFixture {
  readonly service: KeyService
  readonly store: Store
  readonly dataDir: string
  /** How often each KeyStore method was called (the real store, counted). */
  readonly calls: Record<string, number>
  /** The service's clock (epoch ms); tests move it forward. */
  readonly clock: { now: number }
}

export { silentLog } from '../pipeline/silent-log.ts'

export async function startKeyService (
  t: TestContext,
  overrides: Partial<Omit<KeyServiceOptions, 'store' | 'now' | 'config'>> & { config?: Partial<KeyServiceOptions['config']> } = {}
): Promise<KeyServiceFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-keys-'))
  const store = await openSqliteStore({ dataDir })
  const calls: Record<string, number> = {}
  const clock = { now: Date.now() }
  const service = createKeyService({
    masterKey: randomBytes(32),
    bootstrapAdminKey: null,
    log: silentLog,
    ...overrides,
    config: { cache_ttl_ms: 30_000, max_ttl_seconds: null, last_used_flush_ms: 60_000, ...overrides.config },
    store: countCalls(store.keys, calls),
    now: () => clock.now
  })
  t.after(async () => {
    await service.close()
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return { service, store, dataDir, calls, clock }
}
