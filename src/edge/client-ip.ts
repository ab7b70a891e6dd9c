import { isIP } from 'node:net'
import { compileIpList } from '../lib/ip-list.ts'

/** Resolves the client address of a request from its socket peer and `X-Forwarded-For`. */
export type ClientIpResolver = (socketIp: string, forwardedFor: string | string[] | undefined) => string

/** `::ffff:192.0.2.1` → `192.0.2.1`, so one rule covers both spellings of an IPv4 peer. */
export function normalizeIp (ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
}

/**
 * The client IP is the socket peer unless that peer is a trusted proxy. Then `X-Forwarded-For`
 * is walked right to left past trusted hops; the first untrusted address is the client
 * (each proxy appends the address it saw, so only the right-hand entries are vouched for).
 * An untrusted peer's `X-Forwarded-For` is ignored entirely, so it cannot be spoofed.
 * A malformed entry stops the walk at the last trusted hop rather than believing it.
 */
export function createClientIpResolver (trustedProxies: readonly string[]): ClientIpResolver {
  if (trustedProxies.length === 0) return function socketOnly (socketIp) { return normalizeIp(socketIp) }
  const trusted = compileIpList(trustedProxies, 'trusted_proxies')
  const isTrusted = (ip: string): boolean => trusted.has(ip)

  return function resolveClientIp (socketIp, forwardedFor) {
    let client = normalizeIp(socketIp)
    if (forwardedFor === undefined || !isTrusted(client)) return client
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeIp((hops[i] as string).trim())
      if (isIP(hop) === 0) return client
      client = hop
      if (!isTrusted(hop)) return client
    }
    return client
  }
}
