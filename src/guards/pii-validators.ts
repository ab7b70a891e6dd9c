/**
 * Checksums and range checks that turn "looks like a number" into "is one": they are what keeps
 * order numbers, tracking numbers and timestamps from being redacted. All run on digit strings
 * already extracted by the detector, in time linear in their (bounded) length.
 */

/** ISO/IEC 7812 Luhn check over a string of digits. */
export function luhnValid (digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/**
 * A payment card number: 13–19 digits, a known issuer prefix for its length, and Luhn.
 * Issuer ranges: Visa 4; Mastercard 51–55, 2221–2720; Amex 34/37 (15); Discover 6011/644–649/65;
 * JCB 3528–3589; UnionPay 62; Diners 300–305/36/38/39; Maestro 50/56–58/6.
 */
export function paymentCardValid (digits: string): boolean {
  const n = digits.length
  if (n < 13 || n > 19 || !luhnValid(digits)) return false
  const two = Number(digits.slice(0, 2))
  const four = Number(digits.slice(0, 4))
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return n === 16
  if (two === 34 || two === 37) return n === 15
  if (two === 36 || two === 38 || two === 39 || (four >= 3000 && four <= 3059)) return n >= 14 && n <= 19
  if (four >= 3528 && four <= 3589) return n >= 16
  return two === 50 || (two >= 56 && two <= 69) ? n >= 16 : false
}

const ibanLengths: Record<string, number> = Object.fromEntries(
  ('AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ' +
  'ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IS26 IT27 JO30 KW30 KZ20 ' +
  'LB28 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 ' +
  'RO24 RS22 SA24 SE24 SI19 SK24 SM27 TN24 TR26 UA29 VG24 XK20').split(' ').map(e => [e.slice(0, 2), Number(e.slice(2))])
)

/** The registered IBAN length of a country, or undefined (ISO 13616 registry, abridged). */
export function ibanLength (country: string): number | undefined {
  return ibanLengths[country]
}

/** ISO 13616 / ISO 7064 mod 97-10 over a compact (no spaces) upper-case IBAN. */
export function ibanValid (iban: string): boolean {
  if (iban.length !== ibanLengths[iban.slice(0, 2)]) return false
  const rearranged = iban.slice(4) + iban.slice(0, 4)
  let remainder = 0
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i)
    const value = c >= 65 ? c - 55 : c - 48
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
  }
  return remainder === 1
}

const idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const idCheckChars = '10X98765432'
const provinces = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
  50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91])

/** Chinese resident identity number (GB 11643-1999): province, birth date, ISO 7064 MOD 11-2. */
export function cnResidentIdValid (id: string): boolean {
  if (id.length !== 18 || !provinces.has(Number(id.slice(0, 2)))) return false
  if (!dateValid(Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14)))) return false
  let sum = 0
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * (idWeights[i] as number)
  return idCheckChars[sum % 11] === id[17]?.toUpperCase()
}

/** US SSN ranges the SSA never issues: area 000, 666, 900–999; group 00; serial 0000. */
export function usSsnValid (area: string, group: string, serial: string): boolean {
  const a = Number(area)
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000'
}

/** Four decimal octets 0–255 without leading zeros. */
export function ipv4Valid (parts: readonly string[]): boolean {
  return parts.length === 4 && parts.every(p => p.length > 0 && p.length <= 3 && Number(p) <= 255 && (p === '0' || p[0] !== '0'))
}

/** A real calendar date between 1900 and the current year. */
export function dateValid (year: number, month: number, day: number): boolean {
  if (year < 1900 || year > new Date().getUTCFullYear() || month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}
