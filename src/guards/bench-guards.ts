// Throughput of each content guard and the latency they add to one prompt:
// `node src/guards/bench-guards.ts [runs]`. Prints MB/s per detector on ~1 MB of mixed
// English/Chinese/code text, then p50/p99 for a 4 KB prompt through each detector and through
// all of them as a guard stage runs them (one shared normalisation), against the 0.2 ms target.
// To add a detector, append a [name, function] pair to `detectors` and call it in `allGuards`.
import { cpus } from 'node:os'
import { createInjectionDetector } from './injection-detector.ts'
import { normalize } from './normalize.ts'
import { detectPii, piiMatcherGroup } from './pii-detector.ts'
import { scanNormalized, scanText } from './scan-text.ts'
import { detectSecrets, secretMatcherGroup } from './secret-detector.ts'

const runs = Number(process.argv[2] ?? 5000)
/** The budget for all guards on a 4 KB prompt, p50. */
const TARGET_P50_MS = 0.2

const paragraphs = [
  'Please summarise the following meeting notes and list the action items for each team member. ',
  'The quarterly revenue grew by 12.5% to $4.2 million, driven mainly by the 3.1 release on 2024-03-15. ',
  'Contact Jane Doe at jane.doe@example.com or +1 (415) 555-2671 if the invoice INV-20240315-0042 is late. ',
  '请帮我总结一下这份报告的要点，并给出三条改进建议。客户电话：138 0013 8000，订单号 20240315123456。 ',
  'function retry (fn, attempts = 3) { for (let i = 0; i < attempts; i++) { try { return fn() } catch {} } }\n',
  'Tracking number 1Z999AA10123456784 shipped from 10.0.0.12; build v2.14.3 uses node 24.1.0 and uuid 123e4567-e89b-12d3-a456-426614174000. ',
  'Timestamps: 1700000000000, 12:30:45, 2024-01-15T12:30:45Z. Order total: 1234.56 EUR, reference 4111111111111112. '
]
function mixedText (length: number): string {
  let text = ''
  for (let i = 0; text.length < length; i++) text += paragraphs[(i * 5) % paragraphs.length]
  return text.slice(0, length)
}

const injection = createInjectionDetector()
const detectors: Array<[string, (text: string) => unknown]> = [
  ['normalise', (text) => normalize(text)],
  ['pii', (text) => detectPii(text)],
  ['secret', (text) => detectSecrets(text)],
  ['injection', (text) => injection.analyze(text)]
]
const groups = [piiMatcherGroup(), secretMatcherGroup()]
const piiAndSecrets = (text: string): unknown => scanText(text, groups)
// Everything a guard stage runs on one prompt: one normalisation (and one search for encoded
// spans) shared by PII, secrets and the injection detector.
const allGuards = (text: string): unknown => {
  const normalized = normalize(text)
  return [scanNormalized(normalized, groups), injection.analyze(text, normalized)]
}

function throughput (fn: (text: string) => unknown, text: string): number {
  for (let i = 0; i < 3; i++) fn(text)
  const rounds = 10
  const start = performance.now()
  for (let i = 0; i < rounds; i++) fn(text)
  return (text.length * rounds) / 1e6 / ((performance.now() - start) / 1000)
}

function percentiles (fn: (text: string) => unknown, text: string): { p50: number, p99: number } {
  for (let i = 0; i < 500; i++) fn(text)
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    fn(text)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(runs * 0.5)] as number, p99: times[Math.floor(runs * 0.99)] as number }
}

const big = mixedText(1_000_000)
const prompt = mixedText(4096)
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}`)
for (const [name, fn] of detectors) console.log(`${name}: ${throughput(fn, big).toFixed(1)} MB/s (1 MB mixed text, chars/µs)`)
let allP50 = 0
for (const [name, fn] of [...detectors, ['pii + secret, one normalisation', piiAndSecrets] as const, ['all guards', allGuards] as const]) {
  const { p50, p99 } = percentiles(fn, prompt)
  console.log(`4 KB prompt, ${name}: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (${runs} runs)`)
  allP50 = p50
}
const verdict = allP50 <= TARGET_P50_MS ? 'met' : 'MISSED'
console.log(`all guards, 4 KB prompt: p50 ${allP50.toFixed(3)} ms vs target ≤ ${TARGET_P50_MS} ms: ${verdict}`)
