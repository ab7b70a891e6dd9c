import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFailedAuthThrottle, ipSource, retryAfterError, type FailedAuthEvent, type FailedAuthThrottleOptions } from './failed-auth-throttle.ts'
import { errorBody } from '../errors/serialize-error.ts'

function setup (overrides: Partial<FailedAuthThrottleOptions> = {}) {
  const clock = { t: 1_700_000_000_000 }
  const events: FailedAuthEvent[] = []
  const throttle = createFailedAuthThrottle({
    maxFailures: 3,
    windowSeconds: 60,
    cooldownSeconds: 300,
    now: () => clock.t,
    onEvent: e => events.push(e),
    ...overrides
  })
  const advance = (seconds: number): void => { clock.t += seconds * 1000 }
  return { throttle, clock, events, advance }
}

test('maxFailures - 1 failures still pass; the maxFailures-th locks the IP for the whole cool-down', () => {
  const { throttle } = setup()
  throttle.fail('198.51.100.7', null, 'invalid_api_key')
  throttle.fail('198.51.100.7', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('198.51.100.7', null), null)
  throttle.fail('198.51.100.7', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('198.51.100.7', null), 300)
  // Whatever is presented next: the answer does not depend on any credential.
  assert.equal(throttle.retryAfter('198.51.100.7', 'any-client'), 300)
  assert.equal(throttle.retryAfter('198.51.100.8', null), null, 'the neighbour IPv4 address is its own source')
})

test('the window slides: failures older than windowSeconds are forgotten, with no doubling at an edge', () => {
  const { throttle, advance } = setup()
  throttle.fail('192.0.2.1', null, 'invalid_token')
  advance(30)
  throttle.fail('192.0.2.1', null, 'invalid_token')
  advance(30) // the first failure is now exactly 60 s old: out of the window
  throttle.fail('192.0.2.1', null, 'invalid_token')
  assert.equal(throttle.retryAfter('192.0.2.1', null), null)
  advance(29) // failures at 30, 60 and 89 s: three within 60 s
  throttle.fail('192.0.2.1', null, 'invalid_token')
  assert.equal(throttle.retryAfter('192.0.2.1', null), 300)
})

test('retry-after counts down in whole seconds rounded up, never below 1, and the cool-down ends', () => {
  const { throttle, advance } = setup()
  for (let i = 0; i < 3; i++) throttle.fail('192.0.2.1', null, 'invalid_api_key')
  advance(0.001)
  assert.equal(throttle.retryAfter('192.0.2.1', null), 300)
  advance(99.5)
  assert.equal(throttle.retryAfter('192.0.2.1', null), 201)
  advance(200.498)
  assert.equal(throttle.retryAfter('192.0.2.1', null), 1)
  advance(0.001)
  assert.equal(throttle.retryAfter('192.0.2.1', null), null)
})

test('after the cool-down the count starts afresh', () => {
  const { throttle, advance } = setup()
  for (let i = 0; i < 3; i++) throttle.fail('192.0.2.1', null, 'invalid_api_key')
  advance(300)
  throttle.fail('192.0.2.1', null, 'invalid_api_key')
  throttle.fail('192.0.2.1', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('192.0.2.1', null), null)
  throttle.fail('192.0.2.1', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('192.0.2.1', null), 300)
})

test('failures during the cool-down do not extend it', () => {
  const { throttle, advance } = setup()
  for (let i = 0; i < 3; i++) throttle.fail('192.0.2.1', 'victim', 'invalid_client')
  advance(200)
  for (let i = 0; i < 10; i++) throttle.fail('192.0.2.99', 'victim', 'invalid_client')
  assert.equal(throttle.retryAfter('203.0.113.5', 'victim'), 100)
  advance(100)
  assert.equal(throttle.retryAfter('203.0.113.5', 'victim'), null)
})

test('a client id is locked on its own, from whichever IPs the failures come, and the IP on its own', () => {
  const { throttle } = setup()
  throttle.fail('192.0.2.1', 'client-a', 'invalid_client')
  throttle.fail('192.0.2.2', 'client-a', 'invalid_client')
  throttle.fail('2001:db8::1', 'client-a', 'invalid_client')
  assert.equal(throttle.retryAfter('203.0.113.9', 'client-a'), 300, 'client-a refused from a fresh IP')
  assert.equal(throttle.retryAfter('192.0.2.1', 'client-b'), null, 'the IPs themselves are below the threshold')
  assert.equal(throttle.retryAfter('192.0.2.1', null), null)

  throttle.fail('198.51.100.1', 'x', 'invalid_client')
  throttle.fail('198.51.100.1', 'y', 'invalid_client')
  throttle.fail('198.51.100.1', 'z', 'invalid_client')
  assert.equal(throttle.retryAfter('198.51.100.1', 'client-c'), 300, 'spraying client ids locks the IP')
  assert.equal(throttle.retryAfter('203.0.113.9', 'x'), null)
})

test('IPv6 addresses of one /64 share a count; another /64 does not', () => {
  const { throttle } = setup()
  throttle.fail('2001:db8:aa:1::1', null, 'invalid_api_key')
  throttle.fail('2001:DB8:AA:1:ffff:ffff:ffff:fffe', null, 'invalid_api_key')
  throttle.fail('2001:0db8:00aa:0001:1234::9%eth0', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('2001:db8:aa:1:dead:beef:0:1', null), 300)
  assert.equal(throttle.retryAfter('2001:db8:aa:2::1', null), null)
  assert.equal(ipSource('2001:db8:aa:1::1'), '2001:db8:aa:1::/64')
  assert.equal(ipSource('::1'), '0:0:0:0::/64')
  assert.equal(ipSource('not-an-address:x'), 'not-an-address:x')
})

test('an IPv4-mapped IPv6 address is the IPv4 address, in any spelling', () => {
  const { throttle } = setup()
  throttle.fail('::ffff:192.0.2.1', null, 'invalid_api_key')
  throttle.fail('::FFFF:c000:201', null, 'invalid_api_key')
  throttle.fail('0:0:0:0:0:ffff:192.0.2.1', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('192.0.2.1', null), 300)
  assert.equal(throttle.retryAfter('::ffff:192.0.2.1', null), 300)
  assert.equal(throttle.retryAfter('::ffff:192.0.2.2', null), null, 'mapped addresses are not grouped per /64')
  assert.equal(ipSource('64:ff9b::198.51.100.7'), '198.51.100.7')
})

test('memory stays bounded with many sources, and sources in cool-down are evicted last', () => {
  const { throttle, advance } = setup({ maxTrackedSources: 100 })
  for (let i = 0; i < 3; i++) throttle.fail('192.0.2.1', null, 'invalid_api_key')
  for (let i = 0; i < 5000; i++) {
    throttle.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, null, 'invalid_api_key')
    advance(0.001)
  }
  assert.ok(throttle.trackedSources() <= 100, `holds ${throttle.trackedSources()} sources`)
  assert.equal(throttle.retryAfter('192.0.2.1', null), 295, 'the locked IP survived 5000 newer idle sources')
  // The most recent idle source is still counted: two more failures lock it.
  throttle.fail('10.0.19.135', null, 'invalid_api_key')
  throttle.fail('10.0.19.135', null, 'invalid_api_key')
  assert.equal(throttle.retryAfter('10.0.19.135', null), 300)
})

test('a table full of sources in cool-down still takes a new one, dropping the one that ends first', () => {
  const { throttle, advance } = setup({ maxFailures: 1, maxTrackedSources: 3 })
  for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) {
    throttle.fail(ip, null, 'invalid_api_key')
    advance(1)
  }
  assert.equal(throttle.trackedSources(), 3)
  assert.equal(throttle.retryAfter('192.0.2.1', null), null)
  assert.equal(throttle.retryAfter('192.0.2.4', null), 299)
})

test('sources idle past the window are dropped lazily', () => {
  const { throttle, advance } = setup()
  for (let i = 0; i < 50; i++) throttle.fail(`192.0.2.${i}`, null, 'invalid_api_key')
  assert.equal(throttle.trackedSources(), 50)
  advance(60)
  throttle.fail('198.51.100.1', null, 'invalid_api_key')
  assert.equal(throttle.trackedSources(), 1)
})

test('events report each failure and each lockout; the last 1000 are kept', () => {
  const { throttle, events, clock } = setup()
  throttle.fail('192.0.2.1', 'client-a', 'invalid_client')
  throttle.fail('192.0.2.1', 'client-a', 'invalid_client')
  throttle.fail('192.0.2.1', null, 'invalid_api_key')
  const lockedUntil = clock.t + 300_000
  assert.deepEqual(events, [
    { type: 'failure', at: clock.t, kind: 'invalid_client', ip: '192.0.2.1', clientId: 'client-a', source: null, failures: 1, lockedUntil: null },
    { type: 'failure', at: clock.t, kind: 'invalid_client', ip: '192.0.2.1', clientId: 'client-a', source: null, failures: 2, lockedUntil: null },
    { type: 'failure', at: clock.t, kind: 'invalid_api_key', ip: '192.0.2.1', clientId: null, source: null, failures: 3, lockedUntil },
    { type: 'lockout', at: clock.t, kind: 'invalid_api_key', ip: '192.0.2.1', clientId: null, source: 'ip:192.0.2.1', failures: 3, lockedUntil }
  ])
  assert.deepEqual(throttle.recentEvents(), events)

  for (let i = 0; i < 1200; i++) throttle.fail(`2001:db8:${i.toString(16)}::1`, null, 'invalid_token')
  const recent = throttle.recentEvents()
  assert.equal(recent.length, 1000)
  assert.deepEqual(recent.at(-1), events.at(-1))
  assert.deepEqual(recent[0], events[events.length - 1000])
})

test('a long client id is counted and reported by its hash', () => {
  const { throttle, events } = setup()
  const long = 'c'.repeat(10_000)
  for (let i = 0; i < 3; i++) throttle.fail(`192.0.2.${i}`, long, 'invalid_client')
  assert.equal(throttle.retryAfter('203.0.113.1', long), 300)
  assert.equal(throttle.retryAfter('203.0.113.1', long + 'd'), null)
  assert.match(events[0]?.clientId ?? '', /^sha256:[\w-]{43}$/)
})

test('the 429 carries retry-after and the catalogue message', () => {
  const err = retryAfterError(42)
  assert.equal(err.status, 429)
  assert.equal(err.code, 'too_many_failed_attempts')
  assert.deepEqual(err.headers, { 'retry-after': '42' })
  assert.deepEqual(errorBody(err), { error: { message: 'Too many failed authentication attempts. Retry after the time in the retry-after header.', type: 'rate_limit_error', param: null, code: 'too_many_failed_attempts' } })
})

test('invalid options are refused at construction', () => {
  assert.throws(() => createFailedAuthThrottle({ maxFailures: 0, windowSeconds: 60, cooldownSeconds: 300 }), /maxFailures/)
  assert.throws(() => createFailedAuthThrottle({ maxFailures: 3, windowSeconds: 0, cooldownSeconds: 300 }), /windowSeconds/)
  assert.throws(() => createFailedAuthThrottle({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: Number.NaN }), /cooldownSeconds/)
  assert.throws(() => createFailedAuthThrottle({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: 300, maxTrackedSources: 1.5 }), /maxTrackedSources/)
})
