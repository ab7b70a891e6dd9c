import type { Pool, PoolClient } from 'pg'

/**
 * Runs `fn` on one pooled connection. While checked out, a connection that drops emits 'error'
 * with no pool listener attached, which would end the process; here it only fails `fn`. A
 * connection that failed is destroyed rather than handed to the next caller.
 */
export async function withClient<T> (pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let failure: Error | undefined
  const onError = (err: Error): void => { failure ??= err }
  client.on('error', onError)
  try {
    return await fn(client)
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err))
    throw err
  } finally {
    client.removeListener('error', onError)
    client.release(failure)
  }
}
