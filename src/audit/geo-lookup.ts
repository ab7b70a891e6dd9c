import maxmind from 'maxmind'
import type { AsnResponse, CityResponse } from 'maxmind'

/** Where an address is, as far as the GeoIP database knows; every part may be missing. */
export interface Geo {
  /** ISO 3166-1 alpha-2 country code (or the registered country when the location is unknown). */
  readonly country: string | null
  /** English city name, when the database has cities. */
  readonly city?: string
  /** Autonomous system number, when the database has them (GeoLite2-ASN, GeoIP2-ISP). */
  readonly asn?: number
  readonly as_org?: string
}

/** Maps a client address to its `geo` record field; null when the database knows nothing. */
export type GeoLookup = (ip: string) => Geo | null

type GeoRecord = Partial<CityResponse & AsnResponse>

/** Entries kept by the reader's LRU cache: clients repeat, and a hit skips the tree walk. */
const cacheEntries = 10_000

/**
 * Opens a MaxMind-format database (GeoLite2/GeoIP2 City, Country or ASN, or any .mmdb with the
 * same field names). The whole file is read into memory at start, so a lookup does no I/O.
 * Throws with the reader's message when the file is missing or not an .mmdb.
 */
export async function openGeoLookup (path: string): Promise<GeoLookup> {
  const reader = await maxmind.open<GeoRecord>(path, { cache: { max: cacheEntries } })
  return function lookupGeo (ip) {
    if (!maxmind.validate(ip)) return null
    let found: GeoRecord | null
    try {
      found = reader.get(ip)
    } catch {
      return null
    }
    return found === null ? null : toGeo(found)
  }
}

function toGeo (record: GeoRecord): Geo | null {
  const country = record.country?.iso_code ?? record.registered_country?.iso_code ?? null
  const city = record.city?.names?.en
  const asn = record.autonomous_system_number
  const org = record.autonomous_system_organization
  if (country === null && city === undefined && asn === undefined) return null
  return {
    country,
    ...(city === undefined ? {} : { city }),
    ...(typeof asn === 'number' ? { asn } : {}),
    ...(typeof org === 'string' ? { as_org: org } : {})
  }
}
