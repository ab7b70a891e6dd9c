import { createHmac, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { canonicalJson } from './canonical-json.ts'
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

export interface AuditChain {
  /** Adds seq and prev, computes the mac and advances the head. */
  seal (fields: AuditFields): AuditRecord
  head (): ChainHead
}

/** A chain that continues from `from` (a resumed log) or starts at the genesis. */
export function createAuditChain (macKey: KeyObject, from: ChainHead = { seq: 0, mac: genesisMac }): AuditChain {
  let current = from
  return {
    seal (fields) {
      for (const name of chainFieldNames) {
        if (Object.hasOwn(fields, name)) throw new TypeError(`audit record: the field ${name} is set by the chain`)
      }
      const unsealed = { ...fields, seq: current.seq + 1, prev: current.mac }
      const mac = computeRecordMac(macKey, unsealed)
      current = { seq: unsealed.seq, mac }
      return { ...unsealed, mac }
    },
    head: () => current
  }
}
