import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isoTimestamp } from './iso-timestamp.ts'
import { prng } from './json-value-fixture.ts'

test('isoTimestamp writes what toISOString writes, within a second, across seconds and at the edges', () => {
  const rnd = prng(7)
  const now = Date.now()
  const times = [0, 1, 9, 10, 99, 100, 999, 1000, now, now + 1, now - 1, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000, 8.64e15]
  for (let i = 0; i < 20_000; i++) times.push(Math.floor(rnd() * 4e12), now + Math.floor(rnd() * 3000))
  for (const ms of times) assert.equal(isoTimestamp(new Date(ms)), new Date(ms).toISOString(), String(ms))
  assert.throws(() => isoTimestamp(new Date(Number.NaN)), RangeError)
})
