import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { startKeyService } from './key-service-fixture.ts'

/** Every form in which a leaked secret could sit in the database. */
function needles (secret: string): string[] {
  return [secret, secret.slice(21, 64), createHash('sha256').update(secret).digest('hex')]
}

async function rawBytes (dir: string): Promise<Buffer> {
  const files = await readdir(dir)
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, f)))))
}

test('canary: no key secret (or its unpeppered hash) appears in any row or byte of the SQLite files', async (t) => {
  const f = await startKeyService(t)
  const secrets: string[] = []
  for (let i = 0; i < 5; i++) {
    const { key, secret } = await f.service.create({ name: `canary ${i}`, scopes: ['chat'], metadata: { i } })
    secrets.push(secret)
    await f.service.verify(secret)
    secrets.push((await f.service.rotate(key.id, 60)).secret)
  }
  const admin = await f.service.ensureBootstrapAdmin()
  assert.ok(admin !== null)
  secrets.push(admin)
  await f.service.flush()

  const whileOpen = await rawBytes(f.dataDir)
  await f.store.close()
  const afterClose = await rawBytes(f.dataDir)

  const db = new DatabaseSync(join(f.dataDir, 'portcullis.db'), { readOnly: true })
  t.after(() => db.close())
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => String(r.name))
  assert.ok(tables.includes('api_keys'))
  const everyValue = tables.flatMap((name) => db.prepare(`SELECT * FROM "${name}"`).all().flatMap((row) => Object.values(row).map(String)))
  assert.ok(everyValue.length > 50, 'the rows were actually read')
  assert.ok(afterClose.includes('canary 4'), 'the raw bytes hold the rows')
  const dump = everyValue.join('\n')

  for (const secret of secrets) {
    for (const needle of needles(secret)) {
      assert.ok(!dump.includes(needle), 'a secret appears in a stored row')
      assert.ok(!whileOpen.includes(needle), 'a secret appears in the database files (open)')
      assert.ok(!afterClose.includes(needle), 'a secret appears in the database files (closed)')
    }
  }
})
