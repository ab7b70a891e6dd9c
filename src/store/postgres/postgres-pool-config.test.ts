import { test } from 'node:test'
import assert from 'node:assert/strict'
import { postgresPoolConfig } from './postgres-pool-config.ts'
import { schemaIdentifier } from './schema-identifier.ts'

const base = 'postgres://portcullis:canary-secret-123@db.example:5432/portcullis'

test('settings that would skip certificate verification are refused, without echoing the password', () => {
  for (const query of ['sslmode=no-verify', 'ssl=no-verify', 'ssl=true', 'sslmode=verify-full&uselibpqcompat=true', 'sslmode=require', 'sslmode=prefer', 'sslmode=verify-ca', 'sslmode=allow', 'sslmode=bogus', 'sslrootcert=/tmp/ca.pem']) {
    assert.throws(() => postgresPoolConfig(`${base}?${query}`), (err: Error) => {
      assert.match(err.message, /^database URL: /)
      assert.ok(!err.message.includes('canary-secret-123'), query)
      return true
    }, query)
  }
})

test('sslmode=verify-full leaves TLS to pg (verification on); no sslmode or disable is plain TCP whatever the environment says', () => {
  const config = postgresPoolConfig(`${base}?sslmode=verify-full`)
  assert.equal('ssl' in config, false)
  assert.equal(config.connectionString, `${base}?sslmode=verify-full`)
  assert.equal(postgresPoolConfig(base).ssl, false)
  assert.equal(postgresPoolConfig(`${base}?sslmode=disable`).ssl, false)
})

test('only postgres URLs are accepted, and malformed ones are refused without echoing them', () => {
  assert.throws(() => postgresPoolConfig('mysql://root:canary-secret-123@db/x'), /scheme mysql: is not PostgreSQL/)
  assert.throws(() => postgresPoolConfig('canary-secret-123'), (err: Error) => !err.message.includes('canary') && /not a valid URL/.test(err.message))
  assert.ok(postgresPoolConfig('postgresql://db/x'))
})

test('pool bounds and timeouts have defaults and can be overridden', () => {
  const config = postgresPoolConfig(base)
  assert.equal(config.max, 10)
  assert.equal(config.connectionTimeoutMillis, 5000)
  assert.equal(config.statement_timeout, 10_000)
  const tuned = postgresPoolConfig(base, { maxConnections: 3, connectionTimeoutMs: 250, statementTimeoutMs: 1000 })
  assert.deepEqual([tuned.max, tuned.connectionTimeoutMillis, tuned.statement_timeout], [3, 250, 1000])
})

test('schema names that are not plain identifiers are refused', () => {
  assert.equal(schemaIdentifier('portcullis_1'), '"portcullis_1"')
  for (const bad of ['', 'Public', '1abc', 'a"; DROP TABLE x; --', 'a.b', 'x'.repeat(64)]) {
    assert.throws(() => schemaIdentifier(bad), /PostgreSQL schema/, bad)
  }
})
