// Instructions per request, counted by valgrind (callgrind), for A/B comparisons that machine
// noise cannot move: on a shared 2-cpu machine throughput ratios drift ±5–10 points between runs
// (benchmark.md), while the same build, inputs and heap settings count the same instructions to
// within 1–3 %. What it does not see: cache misses, and SHA extensions (valgrind hides SHA-NI,
// so OpenSSL falls back to AVX2 and HMAC-SHA256 counts ~4x what it costs on the real CPU).
//
// Usage: node instructions.mjs [--targets portcullis-no-evidence,portcullis] [--requests 2000]
//        [--warmup 12000] [--semi-space 32] [--out NAME] [--keep DIR]
//
// --keep DIR keeps each target's callgrind file in DIR (`<target>.callgrind`) with V8's map of
// its JIT code (`<target>.perf-map`, from --perf-basic-prof), for `callgrind-functions.mjs`,
// which names the JavaScript functions behind the addresses callgrind reports for JIT code.
//
// Each target starts under `valgrind --tool=callgrind --instr-atstart=no` on the CPU the
// benchmark gives the system under test, answers `--warmup` requests uncounted (by then the JIT
// has compiled nearly all of the request path), then `--requests` non-streaming chat requests (16 connections)
// with counting on. The young generation is fixed at `--semi-space` MiB (0: V8's own sizing),
// because V8 resizes it from what it has seen, and that alone moves a run by up to 5 %. Every
// ratio is against the first target. One to two minutes per target.
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { targets, startMock, killAll, setSutCommand } from './targets.mjs'
import { sendRequests } from './load.mjs'

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'portcullis-no-evidence,portcullis,portcullis-limits' },
    requests: { type: 'string', default: '2000' },
    // After 2,000 requests V8 was still compiling: ~18 % of the counted instructions were
    // TurboFan and Maglev jobs (callgrind-functions.mjs). After 12,000 it is ~5 %.
    warmup: { type: 'string', default: '12000' },
    'semi-space': { type: 'string', default: '32' },
    out: { type: 'string' },
    keep: { type: 'string' },
  },
})
const names = args.targets.split(',').filter(Boolean)
for (const name of names) if (!(name in targets)) throw new Error(`unknown target ${name}; known: ${Object.keys(targets).join(', ')}`)
const requests = Number(args.requests)
const warmup = Number(args.warmup)
const semiSpace = Number(args['semi-space'])
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  throw new Error('valgrind is not installed (apt-get install valgrind)')
}

const outDir = mkdtempSync(join(tmpdir(), 'portcullis-callgrind-'))
const rows = []
process.on('exit', () => rmSync(outDir, { recursive: true, force: true }))
const mock = await startMock()
try {
  for (const name of names) {
    setSutCommand({
      wrap: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, `${name}.%p`)}`],
      nodeFlags: [
        ...(semiSpace > 0 ? [`--min-semi-space-size=${semiSpace}`, `--max-semi-space-size=${semiSpace}`] : []),
        ...(args.keep !== undefined ? ['--perf-basic-prof'] : []),
      ],
    })
    process.stderr.write(`${name}: starting under callgrind … `)
    const target = await targets[name].start(mock.url)
    try {
      await sendRequests(target, { amount: warmup })
      callgrind(target.pid, '-z')
      callgrind(target.pid, '-i', 'on')
      const ok = await sendRequests(target, { amount: requests })
      callgrind(target.pid, '-i', 'off')
      callgrind(target.pid, '-d')
      if (ok !== requests) throw new Error(`${name}: ${requests - ok} of ${requests} requests failed`)
      const instructions = counted(target.pid)
      rows.push({ name, perRequest: instructions / requests })
      process.stderr.write(`${Math.round(instructions / requests).toLocaleString('en')} instructions per request\n`)
      if (args.keep !== undefined) keep(name, target.pid)
    } finally {
      await target.stop()
    }
  }
} finally {
  await mock.stop()
  killAll()
}

const base = rows[0]?.perRequest ?? NaN
const lines = [
  `Instructions per request (callgrind), ${requests} non-streaming chat requests after ${warmup} uncounted, young generation ${semiSpace > 0 ? `fixed at ${semiSpace} MiB` : 'sized by V8'}, node ${process.version}. Ratio: ${rows[0]?.name} ÷ target, the throughput ratio the instructions predict.`,
  '',
  '| target | instructions per request | added vs first | ratio |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${Math.round(r.perRequest).toLocaleString('en')} | ${r === rows[0] ? '—' : `+${Math.round(r.perRequest - base).toLocaleString('en')}`} | ${(100 * base / r.perRequest).toFixed(1)} % |`),
]
console.log(lines.join('\n'))
if (args.out !== undefined) writeFileSync(new URL(`./results/${args.out}.md`, import.meta.url), `# Instructions per request\n\n\`node bench/instructions.mjs --targets ${names.join(',')} --requests ${requests} --warmup ${warmup} --semi-space ${semiSpace}\`\n\n${lines.join('\n')}\n`)

function keep (name, pid) {
  mkdirSync(args.keep, { recursive: true })
  copyFileSync(join(outDir, countedFile(pid).file), join(args.keep, `${name}.callgrind`))
  copyFileSync(`/tmp/perf-${pid}.map`, join(args.keep, `${name}.perf-map`))
}

function callgrind (pid, ...command) {
  execFileSync('callgrind_control', [...command, String(pid)], { stdio: 'ignore' })
}

/** The instructions of the counted phase: the largest `totals:` among the process's dumps. */
function counted (pid) {
  return countedFile(pid).total
}

/** The dump of the counted requests: the one with the most instructions. */
function countedFile (pid) {
  let best = { file: '', total: 0 }
  for (const file of readdirSync(outDir).filter((f) => f.includes(`.${pid}`))) {
    const match = /^totals: (\d+)/m.exec(readFileSync(join(outDir, file), 'utf8'))
    if (match && Number(match[1]) > best.total) best = { file, total: Number(match[1]) }
  }
  if (best.total === 0) throw new Error(`no callgrind totals for pid ${pid} in ${outDir}`)
  return best
}
