import type { ClientBase } from 'pg'

/** Runs `fn` in one transaction on `client`, rolling back if it throws. */
export async function inTransaction<T> (client: ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await fn()
    await client.query('COMMIT')
    return result
  } catch (err) {
    // A failed ROLLBACK means the connection is gone; the original error is the one to report.
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}
