import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createOpenAIProvider } from './openai-provider.ts'
import { startMockUpstream } from './mock/mock-upstream-server.ts'
import { GatewayError } from '../errors/gateway-error.ts'
import { chatBody, jsonOf, openaiUpstream } from './upstream-test-fixture.ts'

/** A fresh self-signed certificate for 127.0.0.1, made by openssl in a temp dir. */
async function selfSigned (t: TestContext): Promise<{ key: string, cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-tls-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=portcullis-test', '-addext', 'subjectAltName=IP:127.0.0.1'
  ], { timeout: 10_000 })
  return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') }
}

async function sendVia (t: TestContext, url: string, caPem: string | null) {
  const provider = createOpenAIProvider(openaiUpstream(url), null, { caPem })
  t.after(() => provider.close())
  return await provider.send({ endpoint: 'chat.completions', body: chatBody('over TLS'), stream: false, signal: new AbortController().signal, requestId: 'req_tls' })
}

test('TLS is verified: a self-signed upstream fails with 502 upstream_error, and works once its CA is configured', async (t) => {
  const tls = await selfSigned(t)
  const mock = await startMockUpstream({ tls })
  t.after(() => mock.close())
  assert.match(mock.url, /^https:/)

  await assert.rejects(sendVia(t, mock.url, null), (err) => {
    assert.ok(err instanceof GatewayError)
    assert.equal(err.code, 'upstream_error')
    assert.equal(err.status, 502)
    assert.ok(!err.message.includes('127.0.0.1'))
    return true
  })
  assert.equal(mock.stats.requests, 0)

  const response = jsonOf(await sendVia(t, mock.url, tls.cert))
  assert.equal(response.status, 200)
  assert.equal(mock.stats.requests, 1)
})
