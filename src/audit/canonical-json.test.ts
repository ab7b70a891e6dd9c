import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalJson } from './canonical-json.ts'
import type { JsonValue } from './canonical-json.ts'

test('sorts keys at every depth, keeps array order and writes no whitespace', () => {
  const value = { b: [3, { z: 1, a: null }], a: { d: true, c: 'x' } }
  assert.equal(canonicalJson(value), '{"a":{"c":"x","d":true},"b":[3,{"a":null,"z":1}]}')
})

test('orders keys by UTF-16 code units, as the RFC 8785 §3.2.3 example does', () => {
  const value: Record<string, string> = { '\u20ac': 'Euro', '\r': 'CR', '\ufb33': 'Hebrew', 1: 'One', '\ud83d\ude00': 'Smiley', '\u0080': 'Control', '\u00f6': 'o' }
  const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']
  const expected = '{' + order.map((key) => `${JSON.stringify(key)}:${JSON.stringify(value[key])}`).join(',') + '}'
  assert.equal(canonicalJson(value), expected)
})

test('writes numbers and strings as ECMAScript JSON.stringify does', () => {
  assert.equal(canonicalJson([1e21, 0.1, -0, 1.5e-7, 123456789]), '[1e+21,0.1,0,1.5e-7,123456789]')
  const hostile = 'a\nb"c\\d\u0000e\u001b[31mred\u001b[0m\r\u2028'
  assert.equal(canonicalJson({ s: hostile }), `{"s":${JSON.stringify(hostile)}}`)
  assert.ok(!canonicalJson({ s: hostile }).includes('\n'))
})

test('parse then serialize gives the same string (a lone surrogate included)', () => {
  const value = { text: 'x\ud800y', list: [{ b: 2, a: 1 }], n: -12.5 }
  const once = canonicalJson(value)
  assert.equal(canonicalJson(JSON.parse(once) as JsonValue), once)
})

test('refuses what JSON cannot carry without loss', () => {
  const bad: unknown[] = [NaN, Infinity, -Infinity, undefined, 1n, () => 1, new Date(0), { a: undefined }, [Symbol('s')]]
  for (const [i, value] of bad.entries()) assert.throws(() => canonicalJson(value as JsonValue), TypeError, `case ${i}`)
  let deep: JsonValue = 1
  for (let i = 0; i < 100; i++) deep = [deep]
  assert.throws(() => canonicalJson(deep), /deeper/)
})
