import { BlockList, isIP } from 'node:net'

/** Resolves the client address of a request from its socket peer and `X-Forwarded-For`. */
export type ClientIpResolver = (socketIp: string, forwardedFor: string | string[] | undefined) => string

/** `::ffff:192.0.2.1` → `192.0.2.1`, so one rule covers both spellings of an IPv4 peer. */
export function normalizeIp (ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
}

function buildTrustList (cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of cidrs) {
    const [address = '', prefixText] = entry.split('/')
    const family = isIP(address)
    if (family === 0) throw new Error(`trusted_proxies: "${entry}" is not an IP address or CIDR`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefixText === undefined) {
      list.addAddress(address, type)
      continue
    }
    const prefix = Number(prefixText)
    if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw new Error(`trusted_proxies: "${entry}" has an invalid prefix length`)
    list.addSubnet(address, prefix, type)
  }
  return list
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
  const trusted = buildTrustList(trustedProxies)
  const isTrusted = (ip: string): boolean => trusted.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6')

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
