import type { DatabaseSync } from 'node:sqlite'

/**
 * Runs `fn` in one transaction, rolling back if it throws. `IMMEDIATE` takes the write lock up
 * front, for read-then-write sequences that must not interleave with another process.
 */
export function inTransaction<T> (db: DatabaseSync, fn: () => T, mode: 'DEFERRED' | 'IMMEDIATE' = 'DEFERRED'): T {
  db.exec(`BEGIN ${mode}`)
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (err) {
    db.exec('ROLLBACK')
    throw err
  }
}
