// Where the instructions of a request go, per function, from the files `instructions.mjs --keep
// DIR` leaves: callgrind names native functions itself; JIT code has no symbols, so its
// addresses are looked up in V8's perf map (--perf-basic-prof) and named after the JavaScript
// function (`JS:*name file:line`). Self instructions per request, largest first; with two
// targets, the difference between them (the second minus the first), largest first. The title
// line splits the total into V8's JIT compilers at work (warm-up that was not over yet) and the rest.
//
// Usage: node callgrind-functions.mjs --dir DIR --requests 1000 TARGET [BASE_TARGET] [--top 40]
//
// Callgrind counts one entry per address at which it first entered unnamed code, so one JS
// function can appear under several addresses; they are summed by name here. A code address V8
// reused for another function after a GC is named after the last function the map lists there.
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    requests: { type: 'string', default: '1000' },
    top: { type: 'string', default: '40' },
  },
})
if (args.dir === undefined || positionals.length < 1 || positionals.length > 2) {
  console.error('usage: node callgrind-functions.mjs --dir DIR [--requests 1000] [--top 40] TARGET [BASE_TARGET]')
  process.exit(2)
}
const requests = Number(args.requests)
const top = Number(args.top)
// V8's optimizing compilers (TurboFan, Turboshaft, Maglev) at work: warm-up, not steady state.
const jitCompiler = /compiler::|maglev::|turboshaft::|Compil/

const [target, base] = positionals
const after = perFunction(target)
if (base === undefined) {
  print(`${target}: self instructions per request`, [...after].map(([name, n]) => [name, n]))
} else {
  const before = perFunction(base)
  const names = new Set([...after.keys(), ...before.keys()])
  const rows = [...names].map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)])
  print(`${target} − ${base}: self instructions per request`, rows, true)
}

function print (title, rows, signed = false) {
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  const total = rows.reduce((sum, [, n]) => sum + n, 0)
  const compiling = rows.reduce((sum, [name, n]) => jitCompiler.test(name) ? sum + n : sum, 0)
  console.log(`${title} (total ${fmt(total, signed)}; JIT compilation ${fmt(compiling, signed)}, the rest ${fmt(total - compiling, signed)})`)
  for (const [name, n] of rows.slice(0, top)) console.log(`${fmt(n, signed).padStart(9)}  ${name}`)
}

function fmt (n, signed) {
  const text = Math.round(n).toLocaleString('en')
  return signed && n > 0 ? `+${text}` : text
}

/** Self instructions per request by function name, JIT addresses resolved through the perf map. */
function perFunction (name) {
  const map = perfMap(join(args.dir, `${name}.perf-map`))
  const out = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', join(args.dir, `${name}.callgrind`)], { encoding: 'utf8', maxBuffer: 1 << 28 })
  const totals = new Map()
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line)
    if (m === null || m[2] === 'PROGRAM TOTALS') continue
    const count = Number(m[1].replaceAll(',', ''))
    const label = named(m[2], map)
    totals.set(label, (totals.get(label) ?? 0) + count / requests)
  }
  return totals
}

function named (label, map) {
  const jit = /^\?\?\?:0x([0-9a-f]+)(?:'\d+)? \[\?\?\?\]$/.exec(label)
  if (jit !== null) return lookup(map, parseInt(jit[1], 16)) ?? 'JIT code (not in the perf map)'
  // `file:function [object]` → `function [object file name]`, recursion marks dropped.
  const native = /^(?:.*?):(.*?)(?:'\d+)? \[(.*)\]$/.exec(label)
  return native === null ? label : `${native[1]} [${native[2].split('/').pop()}]`
}

/** [start, end, name] sorted by start; later entries (newer code) first among equal starts. */
function perfMap (file) {
  const entries = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line, order) => {
    const [start, size, ...rest] = line.split(' ')
    const from = parseInt(start, 16)
    return { from, to: from + parseInt(size, 16), name: rest.join(' ').replace(/ \/.*\/([^/]+)$/, ' $1'), order }
  })
  entries.sort((a, b) => a.from - b.from || b.order - a.order)
  return entries
}

function lookup (entries, address) {
  let lo = 0
  let hi = entries.length - 1
  let found = null
  // The last entry starting at or before the address; walk back for the newest that covers it.
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (entries[mid].from <= address) { found = mid; lo = mid + 1 } else hi = mid - 1
  }
  let best = null
  for (let i = found ?? -1; i >= 0 && i > (found ?? 0) - 64; i--) {
    const e = entries[i]
    if (address < e.to && (best === null || e.order > best.order)) best = e
  }
  return best?.name ?? null
}
