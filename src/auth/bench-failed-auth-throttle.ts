// Measures the hot path of brute-force protection, with a full table of 100 000 sources:
// `node src/auth/bench-failed-auth-throttle.ts [calls]`. Prints ns per retryAfter call.
import { cpus } from 'node:os'
import { createFailedAuthThrottle } from './failed-auth-throttle.ts'

const calls = Number(process.argv[2] ?? 2_000_000)
const throttle = createFailedAuthThrottle({ maxFailures: 10, windowSeconds: 60, cooldownSeconds: 300 })
// Fill the table: 99 000 idle IPv4 sources with one failure each, 1 000 IPv6 /64s in cool-down.
for (let i = 0; i < 99_000; i++) throttle.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, null, 'invalid_api_key')
for (let i = 0; i < 1_000; i++) {
  for (let f = 0; f < 10; f++) throttle.fail(`2001:db8:${i.toString(16)}::${f}`, null, 'invalid_token')
}

const cases: Array<[string, string, string | null]> = [
  ['IPv4, not tracked', '192.0.2.1', null],
  ['IPv4, counting, with client id', '10.0.0.7', 'client-0123456789'],
  ['IPv6, in cool-down', '2001:db8:7:0:1234:5678:9abc:def0', null],
  ['IPv6, not tracked, with client id', '2001:db8:ffff:1::1', 'client-0123456789'],
  ['IPv4-mapped IPv6', '::ffff:192.0.2.1', null]
]

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}; ${throttle.trackedSources()} sources tracked, ${calls} calls per case`)
let sink = 0
for (const [name, ip, clientId] of cases) {
  for (let i = 0; i < 100_000; i++) sink += throttle.retryAfter(ip, clientId) ?? 0 // warm-up
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) sink += throttle.retryAfter(ip, clientId) ?? 0
  const ns = Number(process.hrtime.bigint() - start) / calls
  console.log(`${name}: ${ns.toFixed(0)} ns per retryAfter`)
}
if (sink < 0) console.log(sink)
