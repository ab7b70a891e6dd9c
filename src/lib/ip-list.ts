import { BlockList, isIP } from 'node:net'

/** A compiled set of addresses and CIDR ranges, IPv4 and IPv6. */
export interface IpList {
  /** The entries as written (canonical for display and storage). */
  readonly entries: readonly string[]
  /** True when `ip` (already normalised, see normalizeIp) is in the list; false for a non-address. */
  has (ip: string): boolean
}

/** The problem with one entry, or null when it is a valid address or CIDR range. */
export function ipEntryProblem (entry: string): string | null {
  const [address = '', prefixText, extra] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return 'is not an IP address or CIDR range'
  if (prefixText === undefined) return null
  const prefix = Number(prefixText)
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return 'has an invalid prefix length'
  return null
}

/** Compiles entries into a node:net BlockList; throws `<what>: "<entry>" …` for a bad entry. */
export function compileIpList (entries: readonly string[], what: string): IpList {
  const list = new BlockList()
  for (const entry of entries) {
    const problem = ipEntryProblem(entry)
    if (problem !== null) throw new Error(`${what}: "${entry}" ${problem}`)
    const [address = '', prefixText] = entry.split('/')
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    if (prefixText === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefixText), type)
  }
  return Object.freeze({
    entries: Object.freeze([...entries]),
    has (ip: string): boolean {
      const family = isIP(ip)
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6')
    }
  })
}
