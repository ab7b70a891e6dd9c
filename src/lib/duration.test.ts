import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDuration } from './duration.ts'

test('parses seconds, minutes, hours and days', () => {
  assert.equal(parseDuration('30s'), 30)
  assert.equal(parseDuration('15m'), 900)
  assert.equal(parseDuration('24h'), 86_400)
  assert.equal(parseDuration('7d'), 604_800)
  assert.equal(parseDuration('0s'), 0)
})

test('rejects a missing unit, unknown units, signs and fractions with a clear message', () => {
  for (const bad of ['24', '1w', '-5m', '1.5h', '', 'h', '10 m', '1h30m']) {
    assert.throws(() => parseDuration(bad), /invalid duration .*s, m, h or d/, bad)
  }
})
