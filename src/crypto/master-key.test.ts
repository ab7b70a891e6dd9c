import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ensureDataDir, loadMasterKey } from './master-key.ts'

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-mk-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('ensureDataDir creates the directory 0700 and narrows an existing open one', async (t) => {
  const root = await tempDir(t)
  const dir = join(root, 'a', 'data')
  await ensureDataDir(dir)
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
  await chmod(dir, 0o755)
  await ensureDataDir(dir)
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
})

test('without a configured value the key is generated once into master.key (0600) and reused', async (t) => {
  const dir = await tempDir(t)
  const first = await loadMasterKey({ dataDir: dir, value: null })
  assert.equal(first.length, 32)
  const path = join(dir, 'master.key')
  assert.equal((await stat(path)).mode & 0o777, 0o600)
  assert.equal((await readFile(path, 'utf8')).trim(), first.toString('base64'))
  const second = await loadMasterKey({ dataDir: dir, value: null })
  assert.deepEqual(second, first)
})

test('an existing master.key readable by others is narrowed to 0600', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'master.key')
  await writeFile(path, randomBytes(32).toString('base64'), { mode: 0o644 })
  await chmod(path, 0o644)
  await loadMasterKey({ dataDir: dir, value: null })
  assert.equal((await stat(path)).mode & 0o777, 0o600)
})

test('a configured value must be base64 of exactly 32 bytes and is never echoed', async (t) => {
  const dir = await tempDir(t)
  const good = randomBytes(32)
  assert.deepEqual(await loadMasterKey({ dataDir: dir, value: good.toString('base64') }), good)
  const secretish = randomBytes(16).toString('base64')
  for (const bad of [secretish, randomBytes(33).toString('base64'), 'not base64 at all!!', '']) {
    await assert.rejects(loadMasterKey({ dataDir: dir, value: bad }), (err: Error) => {
      assert.match(err.message, /exactly 32 bytes/)
      if (bad !== '') assert.ok(!err.message.includes(bad))
      return true
    })
  }
})

test('a corrupt master.key is an error, not silently replaced', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'master.key'), 'garbage', { mode: 0o600 })
  await assert.rejects(loadMasterKey({ dataDir: dir, value: null }), /master\.key is not valid/)
  assert.equal(await readFile(join(dir, 'master.key'), 'utf8'), 'garbage')
})
