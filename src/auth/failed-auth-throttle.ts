import { createHash } from 'node:crypto'
import { GatewayError } from '../errors/gateway-error.ts'
import { createSlidingCounter } from './sliding-counter.ts'

/**
 * Brute-force protection (docs/brute-force.md), in process memory.
 *
 * - Failures are counted under two independent sources: the client IP (`ip:<address>`; IPv6 per
 *   /64, since an attacker usually holds a whole /64 — RFC 4291 §2.5.4, RFC 6177; an IPv4-mapped
 *   `::ffff:a.b.c.d` counts as `a.b.c.d`) and, when the caller knows it, the presented client id
 *   (`client:<id>`).
 * - A sliding-window log counts failures within `windowSeconds` exactly: `maxFailures - 1`
 *   failures pass; the `maxFailures`-th starts a cool-down of `cooldownSeconds` for that source.
 *   A failure exactly `windowSeconds` old no longer counts.
 * - During the cool-down `retryAfter` answers the remaining seconds (ceil, at least 1) whatever
 *   the next credential is, so a right guess is refused like a wrong one (no oracle). Failures
 *   during it are not counted and do not extend it: extending would let an attacker keep a
 *   victim's client id locked out for ever. After it the count starts afresh.
 * - `retryAfter` is synchronous and O(1); at most `maxTrackedSources` sources are held, the
 *   oldest idle ones evicted first, sources in cool-down last (see sliding-counter.ts).
 */

/** Why an authentication failed, for the events kept for audit and anomaly detection. */
export type FailedAuthKind = 'invalid_api_key' | 'invalid_token' | 'invalid_client' | 'invalid_admin_credentials'

/**
 * Brute-force protection: failed authentications are counted per client IP and per client id;
 * past the threshold the source is refused for a cool-down, whether its next guess is right or not.
 */
export interface FailedAuthThrottle {
  /**
   * Seconds the caller must wait (the `retry-after` value, at least 1) when the IP or the client
   * id is cooling down; null when it may try. Synchronous and O(1): it runs on every request.
   */
  retryAfter (ip: string, clientId: string | null): number | null
  /** Counts one failure against the IP and, when known, the presented client id. */
  fail (ip: string, clientId: string | null, kind: FailedAuthKind): void
}

/** One failure, or one source entering its cool-down. */
export interface FailedAuthEvent {
  readonly type: 'failure' | 'lockout'
  /** Epoch ms. */
  readonly at: number
  readonly kind: FailedAuthKind
  /** The client IP as given (already normalised by the edge). */
  readonly ip: string
  /** The presented client id; one longer than 200 characters as `sha256:<base64url>`. */
  readonly clientId: string | null
  /** lockout: the source locked (`ip:198.51.100.7`, `ip:2001:db8:0:1::/64`, `client:<id>`); failure: null. */
  readonly source: string | null
  /** failure: the higher count of its sources within the window, this one included (a source cooling down counts as `maxFailures`); lockout: `maxFailures`. */
  readonly failures: number
  /** End of the (latest) cool-down of its sources, epoch ms; null when none is cooling down. */
  readonly lockedUntil: number | null
}

export interface FailedAuthThrottleOptions {
  /** `auth.brute_force.max_failures`. */
  readonly maxFailures: number
  /** `auth.brute_force.window_seconds`. */
  readonly windowSeconds: number
  /** `auth.brute_force.cooldown_seconds`. */
  readonly cooldownSeconds: number
  /** Epoch ms; for tests. */
  readonly now?: () => number
  /** Sources (IPs, /64s and client ids) held at most; default 100 000. A full table of IPv4 sources with 9 failures each took 37 MB of heap (Node 24.21). */
  readonly maxTrackedSources?: number
  /** Called synchronously after the state is updated, for each failure and each lockout; must not throw, should only buffer. */
  readonly onEvent?: (event: FailedAuthEvent) => void
}

export interface MemoryFailedAuthThrottle extends FailedAuthThrottle {
  /** The last 1000 events, oldest first. */
  recentEvents (): FailedAuthEvent[]
  /** Sources held, ended ones not yet dropped included. */
  trackedSources (): number
}

const RECENT_EVENTS = 1000
const LONGEST_PLAIN_CLIENT_ID = 200

export function createFailedAuthThrottle (options: FailedAuthThrottleOptions): MemoryFailedAuthThrottle {
  const { maxFailures, windowSeconds, cooldownSeconds, onEvent } = options
  const maxTrackedSources = options.maxTrackedSources ?? 100_000
  const now = options.now ?? Date.now
  positiveInteger('maxFailures', maxFailures)
  positiveNumber('windowSeconds', windowSeconds)
  positiveNumber('cooldownSeconds', cooldownSeconds)
  positiveInteger('maxTrackedSources', maxTrackedSources)

  const counter = createSlidingCounter({ limit: maxFailures, windowMs: windowSeconds * 1000, cooldownMs: cooldownSeconds * 1000, maxEntries: maxTrackedSources })
  const recent: FailedAuthEvent[] = []
  let next = 0

  function emit (event: FailedAuthEvent): void {
    if (recent.length < RECENT_EVENTS) recent.push(event)
    else recent[next] = event
    next = (next + 1) % RECENT_EVENTS
    onEvent?.(event)
  }

  return {
    retryAfter (ip, clientId) {
      const t = now()
      const ipUntil = counter.lockedUntil('ip:' + ipSource(ip), t)
      const clientUntil = clientId === null ? null : counter.lockedUntil('client:' + clientSource(clientId), t)
      const until = Math.max(ipUntil ?? 0, clientUntil ?? 0)
      return until === 0 ? null : Math.max(1, Math.ceil((until - t) / 1000))
    },

    fail (ip, clientId, kind) {
      const t = now()
      const client = clientId === null ? null : clientSource(clientId)
      const sources = client === null ? ['ip:' + ipSource(ip)] : ['ip:' + ipSource(ip), 'client:' + client]
      const results = sources.map(source => counter.hit(source, t))
      const failures = Math.max(...results.map(r => r.failures))
      const lockedUntil = Math.max(...results.map(r => r.lockedUntil ?? 0))
      const base = { at: t, kind, ip, clientId: client }
      emit({ ...base, type: 'failure', source: null, failures, lockedUntil: lockedUntil === 0 ? null : lockedUntil })
      results.forEach((r, i) => {
        if (r.lockedNow) emit({ ...base, type: 'lockout', source: sources[i] ?? null, failures: maxFailures, lockedUntil: r.lockedUntil })
      })
    },

    recentEvents: () => [...recent.slice(next), ...recent.slice(0, next)],
    trackedSources: () => counter.size()
  }
}

/** The 429 for a source cooling down, with `retry-after` in seconds (RFC 9110 §10.2.3). */
export function retryAfterError (seconds: number): GatewayError {
  return new GatewayError('too_many_failed_attempts', { headers: { 'retry-after': String(seconds) } })
}

/**
 * The address failures are counted under: an IPv4 address as is; IPv6 as its /64
 * (`2001:db8:0:1::/64`), except that IPv4-mapped (`::ffff:0:0/96`, RFC 4291 §2.5.5.2) and
 * well-known NAT64 (`64:ff9b::/96`, RFC 6052 §2.1) addresses count as the IPv4 address they carry,
 * in any spelling. Anything unparsable is used lower-cased as is.
 */
export function ipSource (ip: string): string {
  if (!ip.includes(':')) return ip
  const zone = ip.indexOf('%')
  const address = (zone === -1 ? ip : ip.slice(0, zone)).toLowerCase()
  const h = parseIpv6(address)
  if (h === null) return address
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h
  const embedsIpv4 = (h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0xffff) ||
    (h0 === 0x64 && h1 === 0xff9b && h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0)
  if (embedsIpv4) return `${h6 >> 8}.${h6 & 0xff}.${h7 >> 8}.${h7 & 0xff}`
  return `${h0.toString(16)}:${h1.toString(16)}:${h2.toString(16)}:${h3.toString(16)}::/64`
}

/** The eight 16-bit groups of an IPv6 address (RFC 4291 §2.2), or null when it is not one. */
function parseIpv6 (address: string): number[] | null {
  const halves = address.split('::')
  if (halves.length > 2) return null
  const parts = (half: string | undefined): string[] => half === undefined || half === '' ? [] : half.split(':')
  const head = parts(halves[0])
  const tail = parts(halves[1])
  const groups: number[] = []
  const last = halves.length === 2 ? tail : head
  const dotted = last.at(-1)
  if (dotted !== undefined && dotted.includes('.')) {
    const octets = dotted.split('.')
    if (octets.length !== 4 || !octets.every(o => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return null
    const [a = 0, b = 0, c = 0, d = 0] = octets.map(Number)
    last.splice(-1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16))
  }
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null
  for (const part of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/.test(part)) return null
    groups.push(parseInt(part, 16))
  }
  return groups
}

// A presented client id is the caller's to choose: a long one is counted (and reported) by its
// hash, so neither the table nor the event ring holds megabytes of it.
function clientSource (clientId: string): string {
  if (clientId.length <= LONGEST_PLAIN_CLIENT_ID) return clientId
  return 'sha256:' + createHash('sha256').update(clientId).digest('base64url')
}

function positiveInteger (name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
}

function positiveNumber (name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`)
}
