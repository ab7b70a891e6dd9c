import { writeFileSync } from 'node:fs'

/**
 * TEST FIXTURE ONLY: writes a tiny MaxMind DB (format 2.0, https://maxmind.github.io/MaxMind-DB/)
 * so tests read a real .mmdb with the real `maxmind` reader. No npm package ships MaxMind's own
 * test databases, and the GeoLite2 ones are large and licensed. IPv4 only, 24-bit records.
 */

/** A value the fixture can encode: the subset of MMDB data types GeoIP records use. */
export type MmdbValue = string | number | boolean | readonly MmdbValue[] | { readonly [key: string]: MmdbValue }

export interface MmdbNetwork {
  /** e.g. `203.0.113.0/24`. */
  readonly cidr: string
  readonly data: { readonly [key: string]: MmdbValue }
}

const metadataMarker = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')])

/** Writes the database to `path`. */
export function writeMmdbFixture (path: string, networks: readonly MmdbNetwork[], databaseType = 'Portcullis-Test-City'): void {
  writeFileSync(path, buildMmdb(networks, databaseType))
}

interface TrieNode { records: [TrieNode | number | null, TrieNode | number | null], id: number }

export function buildMmdb (networks: readonly MmdbNetwork[], databaseType: string): Buffer {
  const data: Buffer[] = []
  let dataSize = 0
  const root: TrieNode = { records: [null, null], id: 0 }
  const nodes: TrieNode[] = [root]
  for (const network of networks) {
    const encoded = encode(network.data)
    const offset = dataSize
    data.push(encoded)
    dataSize += encoded.length
    const [address, length] = parseCidr(network.cidr)
    let node = root
    for (let bit = 0; bit < length; bit++) {
      const side = (address >>> (31 - bit)) & 1
      if (bit === length - 1) {
        node.records[side] = offset
        break
      }
      let next = node.records[side]
      if (typeof next !== 'object' || next === null) {
        next = { records: [null, null], id: nodes.length }
        nodes.push(next)
        node.records[side] = next
      }
      node = next
    }
  }
  const nodeCount = nodes.length
  const tree = Buffer.alloc(nodeCount * 6)
  const recordValue = (record: TrieNode | number | null): number => {
    if (record === null) return nodeCount
    if (typeof record === 'number') return nodeCount + 16 + record
    return record.id
  }
  for (const node of nodes) {
    tree.writeUIntBE(recordValue(node.records[0]), node.id * 6, 3)
    tree.writeUIntBE(recordValue(node.records[1]), node.id * 6 + 3, 3)
  }
  const metadata = encode({
    node_count: nodeCount,
    record_size: 24,
    ip_version: 4,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000,
    description: { en: 'Portcullis test fixture' }
  })
  return Buffer.concat([tree, Buffer.alloc(16), ...data, metadataMarker, metadata])
}

function parseCidr (cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/')
  const octets = ip.split('.').map(Number)
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 CIDR: ${cidr}`)
  const length = Number(bits)
  if (!Number.isInteger(length) || length < 1 || length > 32) throw new Error(`bad prefix length: ${cidr}`)
  return [(((octets[0] as number) << 24) | ((octets[1] as number) << 16) | ((octets[2] as number) << 8) | (octets[3] as number)) >>> 0, length]
}

/** Control byte, extended type byte, then size bytes (spec: "Data Section" → "Control Byte"). */
function control (type: number, size: number): Buffer {
  const extended = type > 7
  let sizeBits: number
  let sizeBytes: number[]
  if (size < 29) [sizeBits, sizeBytes] = [size, []]
  else if (size < 285) [sizeBits, sizeBytes] = [29, [size - 29]]
  else if (size < 65_821) [sizeBits, sizeBytes] = [30, [(size - 285) >> 8, (size - 285) & 0xff]]
  else throw new Error('value too large for the fixture')
  const head = [(extended ? 0 : type << 5) | sizeBits, ...(extended ? [type - 7] : [])]
  return Buffer.from([...head, ...sizeBytes])
}

function encode (value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([control(2, bytes.length), bytes])
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0)
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`the fixture encodes only uint32 numbers: ${value}`)
    const bytes: number[] = []
    for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
    return Buffer.concat([control(6, bytes.length), Buffer.from(bytes)])
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)])
  const entries = Object.entries(value as { readonly [key: string]: MmdbValue })
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])])
}
