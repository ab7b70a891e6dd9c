import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../pipeline/context.ts'

/**
 * A change made on one instance that others must apply to their caches: a key or client
 * revoked or changed, a token revoked, signing keys rotated, policies or prices edited.
 * `resync` is local only: the subscription was interrupted, so anything may have been missed.
 */
export type ChangeEvent =
  | { readonly type: 'key', readonly id: string }
  | { readonly type: 'client', readonly id: string }
  | { readonly type: 'jti' }
  | { readonly type: 'signing-keys' }
  | { readonly type: 'policies' }
  | { readonly type: 'prices' }
  | { readonly type: 'resync' }

export type ChangeHandler = (event: ChangeEvent) => void

/** Fans changes out to every instance. The instance that made a change has applied it already. */
export interface ChangeBus {
  readonly kind: 'local' | 'redis'
  publish (event: ChangeEvent): void
  /** Called for changes made on other instances (never for this instance's own). */
  subscribe (handler: ChangeHandler): void
  close (): Promise<void>
}

/** One instance: nothing to tell anyone. */
export function createLocalChangeBus (): ChangeBus {
  return { kind: 'local', publish () {}, subscribe () {}, async close () {} }
}

export interface RedisChangeBusOptions {
  /** The shared connection, used to publish. */
  readonly redis: Redis
  readonly channel: string
  readonly log: Logger
}

const types = new Set(['key', 'client', 'jti', 'signing-keys', 'policies', 'prices'])
const idPattern = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Redis pub/sub on a dedicated subscriber connection. Delivery takes milliseconds; a message
 * published while a subscriber was disconnected is lost, so on every reconnection the
 * subscriber raises `resync` and the instance drops its caches. Bound: a change reaches every
 * connected instance within the pub/sub latency, and a disconnected one as soon as it is back.
 */
export async function createRedisChangeBus (options: RedisChangeBusOptions): Promise<ChangeBus> {
  const { redis, channel, log } = options
  const instance = randomUUID()
  const subscriber = redis.duplicate()
  const handlers: ChangeHandler[] = []
  const deliver = (event: ChangeEvent): void => {
    for (const handler of handlers) {
      try {
        handler(event)
      } catch (err) {
        log.error({ err, change: event.type }, 'applying a change from another instance failed')
      }
    }
  }
  let connectedOnce = false
  subscriber.on('ready', () => {
    // The first ready is the start; any later one follows a disconnection that may have lost messages.
    if (connectedOnce) {
      log.warn({ channel }, 'change broadcast reconnected: dropping caches in case changes were missed')
      deliver({ type: 'resync' })
    }
    connectedOnce = true
  })
  subscriber.on('error', (err: Error) => { log.warn({ err: { message: err.message } }, 'change broadcast subscriber: redis error') })
  subscriber.on('message', (_channel: string, text: string) => {
    const event = parse(text)
    if (event === null) {
      log.warn({ channel }, 'change broadcast: ignored a malformed message')
      return
    }
    if (event.from !== instance) deliver(event.change)
  })
  try {
    // The duplicate shares the options of the main connection (lazy, no offline queue): connect first.
    if (subscriber.status === 'wait') await subscriber.connect()
    await subscriber.subscribe(channel)
  } catch (err) {
    // A half-open subscriber would keep the process alive after a failed start.
    subscriber.disconnect()
    throw err
  }
  return {
    kind: 'redis',
    publish (event) {
      redis.publish(channel, JSON.stringify({ from: instance, ...event })).catch((err: unknown) => {
        log.error({ err, change: event.type }, 'broadcasting a change failed: other instances see it when their caches expire')
      })
    },
    subscribe (handler) { handlers.push(handler) },
    async close () {
      subscriber.disconnect()
    }
  }
}

function parse (text: string): { from: string, change: ChangeEvent } | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { from, type, id } = value as Record<string, unknown>
  if (typeof from !== 'string' || typeof type !== 'string' || !types.has(type)) return null
  if (type === 'key' || type === 'client') {
    if (typeof id !== 'string' || !idPattern.test(id)) return null
    return { from, change: { type, id } }
  }
  return { from, change: { type } as ChangeEvent }
}
