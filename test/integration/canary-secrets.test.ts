import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { startMockUpstream, type MockUpstream } from '../../src/upstream/mock/mock-upstream-server.ts'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// Planted secrets: none may appear in a log line, an error body, an admin API response or the store.
const providerKey = 'sk-canary-provider-' + randomBytes(16).toString('hex')
const masterKey = randomBytes(32).toString('base64')
let upstream: MockUpstream
let gw: TestGateway
const apiKeySecrets: string[] = []
const seenBodies: string[] = []

before(async () => {
  upstream = await startMockUpstream({ host: '127.0.0.1', port: 0, apiKey: providerKey })
  gw = await startTestGateway({
    logLevel: 'trace',
    env: { CANARY_PROVIDER_KEY: providerKey, PORTCULLIS_MASTER_KEY: masterKey, WRONG_KEY: providerKey + '-wrong' },
    config: {
      upstreams: [
        { name: 'real', type: 'openai', base_url: upstream.url, api_key: { env: 'CANARY_PROVIDER_KEY' } },
        // Same upstream with a wrong key: its 401 body echoes the key it was given, as OpenAI's does.
        { name: 'wrong', type: 'openai', base_url: upstream.url, api_key: { env: 'WRONG_KEY' } }
      ],
      models: [{ name: 'real-model', upstream: 'real' }, { name: 'wrong-model', upstream: 'wrong' }]
    }
  })
})
after(async () => {
  await gw.close()
  await upstream.close()
})

async function call (path: string, init: RequestInit): Promise<Response> {
  const res = await fetch(gw.url + path, init)
  seenBodies.push(await res.clone().text())
  return res
}

function chat (secret: string, model: string, extra: Record<string, unknown> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'canary run' }], ...extra })
  }
}

test('traffic on every path leaks no planted secret', async () => {
  const { id, secret } = await gw.createKey({ scopes: ['chat'] })
  apiKeySecrets.push(secret)
  assert.equal((await call('/v1/chat/completions', chat(secret, 'real-model'))).status, 200)
  assert.equal((await call('/v1/chat/completions', chat(secret, 'real-model', { stream: true }))).status, 200)
  assert.equal((await call('/v1/chat/completions', chat(secret, 'wrong-model'))).status, 502)
  assert.equal((await call('/v1/chat/completions', chat(secret, 'no-model'))).status, 404)
  assert.equal((await call('/v1/embeddings', { ...chat(secret, 'real-model'), body: JSON.stringify({ model: 'real-model', input: 'x' }) })).status, 403)
  assert.equal((await call('/v1/chat/completions', { ...chat(secret, 'real-model'), body: '{"model":"a","model":"b"}' })).status, 400)
  // A near-miss of a real key, and the provider key presented as a client key.
  assert.equal((await call('/v1/models', { headers: { authorization: `Bearer ${secret.slice(0, -2)}xx` } })).status, 401)
  assert.equal((await call('/v1/models', { headers: { authorization: `Bearer ${providerKey}` } })).status, 401)
  assert.equal((await call('/v1/models', { headers: { 'x-api-key': masterKey } })).status, 401)
  assert.equal((await call(`/v1/models?key=${secret}`, {})).status, 401)

  // Admin responses: list and get never show a secret; rotate shows only the new one.
  assert.equal((await call('/admin/v1/keys', { headers: { authorization: `Bearer ${gw.adminKey}` } })).status, 200)
  assert.equal((await call(`/admin/v1/keys/${id}`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).status, 200)
  const rotated = await gw.admin('POST', `/admin/v1/keys/${id}/rotate`, {})
  const rotatedBody = await rotated.json() as { secret: string }
  assert.ok(!JSON.stringify(rotatedBody).includes(secret), 'rotation returns the new secret, not the old')
  apiKeySecrets.push(rotatedBody.secret)
  assert.equal((await call(`/admin/v1/keys/${id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminKey}` } })).status, 200)
  assert.equal((await call('/v1/chat/completions', chat(rotatedBody.secret, 'real-model'))).status, 401)
  await gw.gateway.keys.flush()

  const canaries = [providerKey, masterKey, gw.adminKey, ...apiKeySecrets]
  const logs = gw.logs.join('\n')
  assert.ok(gw.logs.length > 10, 'trace logging produced lines to inspect')
  for (const canary of canaries) {
    assert.ok(!logs.includes(canary), 'a secret reached the log')
    for (const body of seenBodies) assert.ok(!body.includes(canary), `a secret reached a response body: ${body.slice(0, 200)}`)
  }

  // The store: raw bytes of every file in the data dir and every row of every table.
  const dbText: string[] = []
  // Recursive: the audit segments and checkpoints (DATA_DIR/audit) are searched too.
  for (const entry of await readdir(gw.dataDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'master.key' || entry.name === 'config.json') continue
    dbText.push((await readFile(join(entry.parentPath, entry.name))).toString('latin1'))
  }
  assert.ok(dbText.some((text) => text.includes('"type":"request"')), 'the audit records were read')
  const db = new DatabaseSync(join(gw.dataDir, 'portcullis.db'), { readOnly: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
    for (const { name } of tables) dbText.push(JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all()))
  } finally {
    db.close()
  }
  const stored = dbText.join('\n')
  assert.ok(stored.includes(id), 'the rows were read')
  for (const canary of canaries) assert.ok(!stored.includes(canary), 'a secret reached the store')
})
