import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalize } from './normalize.ts'

test('NFKC folds full-width letters, digits and punctuation to ASCII', () => {
  assert.equal(normalize('ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ １３８').text, 'john@example.com 138')
  assert.equal(normalize('ﬁle 𝐇𝐞𝐥𝐥𝐨 ①').text, 'file Hello 1')
})

test('zero-width, bidi controls and variation selectors are removed', () => {
  assert.equal(normalize('j\u200bo\u200ch\u200dn\u2060@\u202eex\u2066ample\ufeff.com\u00ad').text, 'john@example.com')
})

test('Unicode tag characters become the ASCII they smuggle', () => {
  const hidden = [...'hi'].map(c => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')
  assert.equal(normalize('a' + hidden + 'b').text, 'ahib')
})

test('Cyrillic and Greek look-alikes fold to Latin unless disabled', () => {
  assert.equal(normalize('Ignоre аll ѕk-ΑΒ').text, 'Ignore all sk-AB')
  assert.equal(normalize('Ignоre', { foldHomoglyphs: false }).text, 'Ignоre')
})

test('white space runs collapse to one space, including NBSP and ideographic space', () => {
  assert.equal(normalize('a \t\n b\u00a0c\u3000\u3000d\r\ne').text, 'a b c d e')
})

test('leetspeak and lower-casing are options, and leave plain numbers alone', () => {
  assert.equal(normalize('1gn0r3 4LL pr3v10us 2024').text, '1gn0r3 4LL pr3v10us 2024')
  assert.equal(normalize('1gn0r3 4LL pr3v10us 2024', { foldLeetspeak: true, lowercase: true }).text, 'ignore all previous 2024')
})

test('combining accents compose, and the offset map covers the whole sequence', () => {
  const n = normalize('cafe\u0301 x')
  assert.equal(n.text, 'café x')
  assert.deepEqual(n.toOriginal(3, 4), { start: 3, end: 5 })
  assert.deepEqual(n.toOriginal(5, 6), { start: 6, end: 7 })
})

test('offsets map back to the original span for every kind of change', () => {
  const original = '电话：１３８\u200b００１３８０００  and   ｊｏｈｎ＠ｘ．ｃｏｍ'
  const n = normalize(original)
  const cases: Array<[string, string]> = [['13800138000', '１３８\u200b００１３８０００'], ['john@x.com', 'ｊｏｈｎ＠ｘ．ｃｏｍ'], ['and', 'and']]
  for (const [needle, expected] of cases) {
    const at = n.text.indexOf(needle)
    assert.ok(at >= 0, needle)
    const span = n.toOriginal(at, at + needle.length)
    assert.equal(original.slice(span.start, span.end), expected)
  }
})

test('untouched text is returned as is', () => {
  const text = 'plain ASCII text with single spaces.'
  const n = normalize(text)
  assert.equal(n.text, text)
  assert.deepEqual(n.toOriginal(6, 11), { start: 6, end: 11 })
})
