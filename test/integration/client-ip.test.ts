import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../helpers/start-test-gateway.ts'

// The client IP the gateway acts on, as it reports it in its request log.
async function clientIpSeen (gw: TestGateway, forwardedFor: string): Promise<string> {
  const { secret } = await gw.createKey()
  const before = gw.logs.length
  const res = await fetch(gw.url + '/v1/models', { headers: { authorization: `Bearer ${secret}`, 'x-forwarded-for': forwardedFor } })
  assert.equal(res.status, 200)
  await res.arrayBuffer()
  const line = gw.logs.slice(before).map((l) => JSON.parse(l) as { msg: string, client_ip?: string }).find((l) => l.msg === 'request completed')
  assert.ok(line?.client_ip !== undefined, 'the request was logged')
  return line.client_ip
}

test('X-Forwarded-For from an untrusted peer is ignored: the socket address is the client', async () => {
  const gw = await startTestGateway()
  try {
    assert.equal(await clientIpSeen(gw, '203.0.113.5'), '127.0.0.1')
  } finally {
    await gw.close()
  }
})

test('behind a trusted proxy the first untrusted hop from the right is the client', async () => {
  const gw = await startTestGateway({ config: { server: { trusted_proxies: ['127.0.0.0/8', '10.0.0.0/8'] } } })
  try {
    // The caller forged 1.1.1.1; the proxy chain appended the real address and an inner proxy.
    assert.equal(await clientIpSeen(gw, '1.1.1.1, 203.0.113.5, 10.0.0.3'), '203.0.113.5')
  } finally {
    await gw.close()
  }
})
