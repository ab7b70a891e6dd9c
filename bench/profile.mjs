// Where a saturated gateway spends its CPU, in microseconds per request, by function: a sampling
// profile taken with Linux `perf` while autocannon holds the target at saturation. Unlike
// instructions.mjs (callgrind) it sees real time: the kernel (socket and file writes, wake-ups of
// other processes), cache misses and the CPU's SHA extensions.
//
// Usage: node bench/profile.mjs TARGET [--seconds 10] [--warmup 20000] [--top 40] [--keep FILE]
//        [--under NAME]...
//
// The target starts as in run.mjs (pinned to CPU 0; this process, the load and the mock on
// CPU 1) with `--perf-basic-prof`, so perf names JIT code from /tmp/perf-<pid>.map. After
// `--warmup` uncounted requests, `perf record -g` samples the target at 4,999 Hz for `--seconds`
// of saturation. Each sample stands for 1/4999 s of CPU, so samples × that ÷ requests answered is
// CPU µs per request. Printed: the total, the top self functions, and for each `--under NAME`
// (a substring of a frame, e.g. `record-stage.ts` or `uv__work_done`) the µs of the samples
// with that frame on their stack. Needs perf (Debian's linux-perf) with sampling allowed.
import { execFileSync, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { targets, startMock, killAll, pinSelf, LOAD_CPU, setSutCommand } from './targets.mjs'
import { saturate, sendRequests } from './load.mjs'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '20000' },
    top: { type: 'string', default: '40' },
    keep: { type: 'string' },
    under: { type: 'string', multiple: true, default: [] },
  },
})
const name = positionals[0]
if (name === undefined || !(name in targets)) {
  console.error(`usage: node bench/profile.mjs TARGET [--seconds 10] [--warmup 20000] [--top 40] [--keep FILE] [--under NAME]...\ntargets: ${Object.keys(targets).join(', ')}`)
  process.exit(2)
}
const seconds = Number(args.seconds)
const hz = 4999
const dataFile = args.keep ?? `/tmp/portcullis-profile-${process.pid}.data`
try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' })
} catch {
  throw new Error('perf is not installed (apt-get install linux-perf)')
}

pinSelf(LOAD_CPU)
setSutCommand({ nodeFlags: ['--perf-basic-prof'] })
const mock = await startMock()
let answered = 0
try {
  const target = await targets[name].start(mock.url)
  try {
    process.stderr.write(`${name}: ${args.warmup} warm-up requests … `)
    await sendRequests(target, { amount: Number(args.warmup), connections: 64 })
    process.stderr.write(`profiling ${seconds} s at saturation … `)
    const perf = spawn('perf', ['record', '-F', String(hz), '-g', '-o', dataFile, '-p', String(target.pid)], { stdio: 'ignore' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const result = await saturate(target, { stream: false, connections: 64, seconds })
    perf.kill('SIGINT')
    await new Promise((resolve) => perf.on('exit', resolve))
    const failed = result.non2xx + result.errors + result.timeouts
    if (failed > 0) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors and ${result.timeouts} timeouts: the profile would not be of answered requests`)
    answered = result.requests
    process.stderr.write(`${answered} requests\n`)
  } finally {
    await target.stop()
  }
} finally {
  await mock.stop()
  killAll()
}
report(stacksOf(execFileSync('perf', ['script', '-i', dataFile], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })))
if (args.keep === undefined) rmSync(dataFile, { force: true })

/** Each sample's frames, leaf first, named as perf names them (JIT frames from the perf map). */
function stacksOf (text) {
  const stacks = []
  let current = null
  for (const line of text.split('\n')) {
    if (line.startsWith('\t') || line.startsWith(' ')) {
      const match = /^\s*[0-9a-f]+ (.*?)(?:\+0x[0-9a-f]+)? \(.*\)$/.exec(line)
      if (current !== null && match !== null) current.push(match[1].replace(/^JS:[*+~^]?/, '').replace(/ (?:file:\/\/)?\/[^ ]*\/(src|node_modules)\//, ' $1/'))
    } else if (line.trim() === '') {
      if (current !== null && current.length > 0) stacks.push(current)
      current = null
    } else {
      current = []
    }
  }
  if (current !== null && current.length > 0) stacks.push(current)
  return stacks
}

function report (stacks) {
  const perSample = 1e6 / hz / answered
  const us = (n) => (n * perSample).toFixed(2).padStart(8)
  console.log(`${name}: ${(stacks.length * perSample).toFixed(1)} CPU µs per request (${stacks.length} samples at ${hz} Hz, ${answered} requests in ${seconds} s)`)
  const self = new Map()
  for (const stack of stacks) self.set(stack[0], (self.get(stack[0]) ?? 0) + 1)
  console.log('\nself, µs per request:')
  for (const [frame, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) console.log(`${us(n)}  ${frame.slice(0, 140)}`)
  for (const under of args.under) {
    const children = new Map()
    let total = 0
    for (const stack of stacks) {
      const at = stack.findLastIndex((frame) => frame.includes(under))
      if (at === -1) continue
      total += 1
      const child = at === 0 ? '(self)' : stack[at - 1]
      children.set(child, (children.get(child) ?? 0) + 1)
    }
    console.log(`\nunder "${under}": ${us(total).trim()} µs per request; by the frame it called:`)
    for (const [frame, n] of [...children].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${us(n)}  ${frame.slice(0, 140)}`)
  }
}
