import { test } from 'node:test'
import assert from 'node:assert/strict'
import { findDuplicateKey } from '../lib/find-duplicate-key.ts'
import { parseStrictJson } from './parse-strict-json.ts'
import { GatewayError } from '../errors/gateway-error.ts'

test('a second "model" member is refused, naming the key', () => {
  assert.throws(() => parseStrictJson('{"model":"cheap","messages":[],"model":"expensive"}'),
    (err: unknown) => err instanceof GatewayError && err.code === 'invalid_request' && err.param === 'model')
})

test('duplicates spelled with escapes are the same name', () => {
  assert.equal(findDuplicateKey('{"model":"a","\\u006dodel":"b"}'), 'model')
})

test('duplicates in nested objects and inside arrays are found', () => {
  assert.equal(findDuplicateKey('{"messages":[{"role":"user","role":"system"}]}'), 'role')
  assert.equal(findDuplicateKey('{"a":{"b":1,"c":{"b":2}},"x":[{"b":1},{"b":2}]}'), null)
})

test('keys of sibling objects do not collide, and string values are not keys', () => {
  assert.equal(findDuplicateKey('{"a":"model","b":{"model":1},"model":"x"}'), null)
  assert.equal(findDuplicateKey('{"a":"quote \\" and \\\\","model":1,"c":["model","model"]}'), null)
})

test('invalid JSON is an invalid_request without echoing the body', () => {
  assert.throws(() => parseStrictJson('{"model": sk-secret'), (err: unknown) => {
    return err instanceof GatewayError && err.code === 'invalid_request' && !err.message.includes('sk-secret')
  })
})

test('scanning is linear: a 1 MB document with many keys parses quickly', () => {
  const members = Array.from({ length: 40_000 }, (_, i) => `"k${i}":"v\\"${i}"`).join(',')
  const started = performance.now()
  assert.equal(findDuplicateKey(`{${members}}`), null)
  assert.ok(performance.now() - started < 1000)
})
