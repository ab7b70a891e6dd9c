import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'
import { auditRecordOf } from '../helpers/audit-records.ts'
import { writeMmdbFixture } from '../../src/audit/mmdb-fixture.ts'

let fixtures: string
let database: string
let gw: TestGateway
let key: { id: string, secret: string }

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'portcullis-geo-'))
  database = join(fixtures, 'test-city.mmdb')
  writeMmdbFixture(database, [
    { cidr: '203.0.113.0/24', data: { country: { iso_code: 'NL' }, city: { names: { en: 'Amsterdam', de: 'Amsterdam' } }, autonomous_system_number: 64500, autonomous_system_organization: 'Example Net' } },
    { cidr: '198.51.100.128/25', data: { registered_country: { iso_code: 'DE' } } }
  ])
  gw = await startTestGateway({ config: { server: { trusted_proxies: ['127.0.0.1'] }, audit: { geoip_database: database } } })
  key = await gw.createKey()
})
after(async () => {
  await gw.close()
  await rm(fixtures, { recursive: true, force: true })
})

async function fromAddress (forwardedFor: string): Promise<string> {
  const res = await fetch(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'where am I' }] })
  })
  assert.equal(res.status, 200)
  await res.text()
  return res.headers.get('x-request-id') ?? ''
}

test('geo comes from the database for the client IP behind a trusted proxy', async () => {
  const r = await auditRecordOf(gw, await fromAddress('203.0.113.77'))
  assert.equal(r.ip, '203.0.113.77')
  assert.deepEqual(r.geo, { as_org: 'Example Net', asn: 64500, city: 'Amsterdam', country: 'NL' })
})

test('a network with only a registered country gives just the country', async () => {
  const r = await auditRecordOf(gw, await fromAddress('198.51.100.200'))
  assert.deepEqual(r.geo, { country: 'DE' })
})

test('an address the database does not know (or an IPv6 one in an IPv4 database) gives geo null', async () => {
  assert.equal((await auditRecordOf(gw, await fromAddress('198.51.100.1'))).geo, null)
  assert.equal((await auditRecordOf(gw, await fromAddress('2001:db8::1'))).geo, null)
})

test('a geoip_database that cannot be read stops the start with a message naming the setting', async () => {
  const notMmdb = join(fixtures, 'plain.txt')
  await writeFile(notMmdb, 'hello')
  for (const [i, path] of [join(fixtures, 'missing.mmdb'), notMmdb].entries()) {
    await mkdir(join(fixtures, `data-${i}`))
    await assert.rejects(startTestGateway({ dataDir: join(fixtures, `data-${i}`), config: { audit: { geoip_database: path } } }), (err: Error) => {
      assert.equal(err.name, 'StartupError')
      assert.match(err.message, /^audit\.geoip_database: cannot open ".*" as a MaxMind database/)
      return true
    })
  }
})
