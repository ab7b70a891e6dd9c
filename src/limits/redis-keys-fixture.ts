import type { Redis } from 'ioredis'

/** Every key under `prefix`, sorted (SCAN, never KEYS): for tests and benchmarks that clean up after themselves. */
export async function keysUnder (redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found.sort()
}
