import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { maxLineBytes, readFirstLine, readLinesBackward, readLinesForward } from './audit-line-reader.ts'

async function collect (lines: AsyncGenerator<string>): Promise<string[]> {
  const out: string[] = []
  for await (const line of lines) out.push(line)
  return out
}

test('lines of every length, across 64 KiB chunk boundaries and multi-byte characters, read the same both ways', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-lines-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const path = join(root, 'f.jsonl')
  // Lengths around the chunk size, a 200 KiB line spanning chunks, empty lines and 'é' (2 bytes) straddling boundaries.
  const lines = ['a', '', 'é'.repeat(40_000), 'x'.repeat(65_535), 'y'.repeat(65_536), 'z'.repeat(200_000), '', '{"seq":1}', 'ü€'.repeat(9_999)]
  writeFileSync(path, lines.map((l) => l + '\n').join('') + '{"torn":')
  assert.deepEqual(await collect(readLinesForward(path)), lines)
  assert.deepEqual(await collect(readLinesBackward(path)), [...lines].reverse())
  assert.equal(await readFirstLine(path), 'a')
  writeFileSync(path, 'no newline yet')
  assert.deepEqual(await collect(readLinesForward(path)), [])
  assert.deepEqual(await collect(readLinesBackward(path)), [])
  assert.equal(await readFirstLine(path), null)
})

test('a line longer than maxLineBytes is skipped, not buffered; its neighbours survive', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-lines-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const path = join(root, 'f.jsonl')
  writeFileSync(path, `before\n${'h'.repeat(maxLineBytes + 10)}\nafter\n`)
  assert.deepEqual(await collect(readLinesForward(path)), ['before', 'after'])
  assert.deepEqual(await collect(readLinesBackward(path)), ['after', 'before'])
})
