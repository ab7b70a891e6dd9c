import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'
import type { Store } from '../store/store.ts'

/** Test support: a real SQLite store in a temp dir, closed and removed after the test. */
export interface TempStore {
  readonly store: Store
  readonly dataDir: string
  /** Opens the same database again, as a restarted (or second) gateway would. */
  reopen (): Promise<Store>
}

export async function tempSqliteStore (t: TestContext): Promise<TempStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-oauth-'))
  const opened: Store[] = []
  const open = async (): Promise<Store> => {
    const store = await openSqliteStore({ dataDir })
    opened.push(store)
    return store
  }
  const store = await open()
  t.after(async () => {
    for (const s of opened) await s.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return { store, dataDir, reopen: open }
}
