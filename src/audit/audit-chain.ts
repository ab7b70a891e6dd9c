import { createHmac, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { canonicalJson } from './canonical-json.ts'
import { canonicalMemberGroups } from './canonical-members.ts'
import type { JsonValue } from './canonical-json.ts'

/** The fields a caller records; `seq`, `prev` and `mac` are added by the chain. */
export type AuditFields = { readonly [key: string]: JsonValue }

/** A sealed record as written: one canonical JSON line. */
export type AuditRecord = AuditFields & { readonly seq: number, readonly prev: string, readonly mac: string }

/** Where the chain stands: the last sealed record (seq 0 and `genesisMac` before the first). */
export interface ChainHead {
  readonly seq: number
  readonly mac: string
}

/** `prev` of record 1: a fixed value, so a log that lost its first record does not verify. */
export const genesisMac = '0'.repeat(64)

export const chainFieldNames = Object.freeze(['seq', 'prev', 'mac'])
/** The chain's fields in canonical (sorted) order: where they sit among a record's members. */
const chainFieldsSorted = Object.freeze(['mac', 'prev', 'seq'])

/** mac = HMAC-SHA256(key, prev ‖ canonical(record without mac)), hex. */
export function computeRecordMac (key: KeyObject, unsealed: { readonly prev: string } & AuditFields): string {
  return createHmac('sha256', key).update(unsealed.prev).update(canonicalJson(unsealed)).digest('hex')
}

/** Constant-time comparison of two hex MACs (a different length is simply unequal). */
export function macEquals (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** A sealed record and its line in the segment file (canonical JSON, no newline). */
export interface SealedRecord {
  readonly record: AuditRecord
  readonly line: string
}

/**
 * A record's canonical members (comma-separated `"key":value`, no braces) written by a builder
 * that knows its fields (request-record.ts), in the four groups the chain's own members sort
 * between: before `mac`, between `mac` and `prev`, between `prev` and `seq`, after `seq`. Exactly
 * what `canonicalMemberGroups(fields, ['mac', 'prev', 'seq'])` returns for the same fields.
 */
export type MemberGroups = readonly [string, string, string, string]

export interface AuditChain {
  /** Adds seq and prev, computes the mac and advances the head. */
  seal (fields: AuditFields): AuditRecord
  /**
   * `seal`, plus the record's canonical line, serialized once together with the MAC input.
   * `groups`, when the caller has them, are trusted to be the fields' members as defined above.
   */
  sealLine (fields: AuditFields, groups?: MemberGroups): SealedRecord
  head (): ChainHead
}

/** A chain that continues from `from` (a resumed log) or starts at the genesis. */
export function createAuditChain (macKey: KeyObject, from: ChainHead = { seq: 0, mac: genesisMac }): AuditChain {
  let current = from
  const sealLine = (fields: AuditFields, groups?: MemberGroups): SealedRecord => {
    // One serialization of the fields for both texts: the chain's own members sort between these
    // groups, so the MAC input (computeRecordMac's canonical(record without mac)) and the line
    // are assembled from the same pieces.
    const [beforeMac, beforePrev, beforeSeq, afterSeq] = groups ?? memberGroups(fields)
    const seq = current.seq + 1
    const prev = current.mac
    const prevMember = '"prev":' + JSON.stringify(prev)
    const tail = joinMembers(joinMembers(joinMembers(prevMember, beforeSeq), '"seq":' + String(seq)), afterSeq)
    const mac = createHmac('sha256', macKey).update(prev + '{' + joinMembers(joinMembers(beforeMac, beforePrev), tail) + '}').digest('hex')
    current = { seq, mac }
    const line = '{' + joinMembers(joinMembers(joinMembers(beforeMac, '"mac":' + JSON.stringify(mac)), beforePrev), tail) + '}'
    return { record: { ...fields, seq, prev, mac }, line }
  }
  return {
    seal: (fields) => sealLine(fields).record,
    sealLine,
    head: () => current
  }
}

function memberGroups (fields: AuditFields): MemberGroups {
  for (const name of chainFieldNames) {
    if (Object.hasOwn(fields, name)) throw new TypeError(`audit record: the field ${name} is set by the chain`)
  }
  return canonicalMemberGroups(fields, chainFieldsSorted) as unknown as MemberGroups
}

function joinMembers (left: string, right: string): string {
  if (left === '') return right
  return right === '' ? left : left + ',' + right
}
