import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createClientIpResolver } from './client-ip.ts'

test('without trusted proxies the socket address is the client, whatever X-Forwarded-For says', () => {
  const resolve = createClientIpResolver([])
  assert.equal(resolve('203.0.113.7', '198.51.100.1'), '203.0.113.7')
  assert.equal(resolve('::ffff:203.0.113.7', undefined), '203.0.113.7')
})

test('an untrusted peer cannot spoof its address with X-Forwarded-For', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8'])
  assert.equal(resolve('203.0.113.7', '127.0.0.1, 10.1.1.1'), '203.0.113.7')
})

test('X-Forwarded-For is walked right to left past trusted hops only', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8', '192.0.2.10'])
  // The client forged "1.1.1.1"; the trusted proxy appended the real peer 198.51.100.9.
  assert.equal(resolve('10.0.0.5', '1.1.1.1, 198.51.100.9'), '198.51.100.9')
  assert.equal(resolve('10.0.0.5', '198.51.100.9, 192.0.2.10, 10.2.3.4'), '198.51.100.9')
  assert.equal(resolve('10.0.0.5', ['1.1.1.1', '198.51.100.9']), '198.51.100.9')
})

test('when every hop is trusted the leftmost is the client', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8'])
  assert.equal(resolve('10.0.0.5', '10.9.9.9, 10.0.0.1'), '10.9.9.9')
})

test('a malformed hop stops the walk at the last trusted address', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8'])
  assert.equal(resolve('10.0.0.5', '198.51.100.9, not-an-ip'), '10.0.0.5')
  assert.equal(resolve('10.0.0.5', '<script>, 10.0.0.7'), '10.0.0.7')
})

test('IPv6 proxies and clients', () => {
  const resolve = createClientIpResolver(['fd00::/8', '::1'])
  assert.equal(resolve('::1', '2001:db8::1'), '2001:db8::1')
  assert.equal(resolve('fd00::2', '2001:db8::5, fd00::9'), '2001:db8::5')
  assert.equal(resolve('2001:db8::66', '2001:db8::1'), '2001:db8::66')
})

test('invalid trusted_proxies entries are rejected at start-up', () => {
  assert.throws(() => createClientIpResolver(['10.0.0.0/33']), /invalid prefix/)
  assert.throws(() => createClientIpResolver(['example.com']), /not an IP/)
})
