// Turns one run's raw measurements into the table, the ratios against the targets, and the files
// bench/results/<name>.json and .md. Everything printed comes from the run; nothing is typed in.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
const COLUMNS = ['direct', 'bare', 'portcullis', 'portcullis-jwt', 'portcullis-limits', 'portcullis-redis', 'portcullis-guards', 'portcullis-no-evidence', 'portkey']

/** The goals Portcullis is held to; see docs/benchmark.md. */
const GOALS = {
  throughputVsBare: 0.40,
  throughputVsPortkey: 5,
  addedP50Ms: 0.6,
  addedP99Ms: 2.5,
  ttfbAddedP50Ms: 1,
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: xs })
const badCount = (reps) => (reps ?? []).reduce((n, r) => n + r.non2xx + r.errors, 0)

/** Median and range of each measured quantity, plus the error count of its series. */
function summarise (run) {
  const direct = run.targets.direct
  const base = {
    latencyP50: median(direct?.latency?.map((r) => r.latency.p50) ?? []),
    latencyP99: median(direct?.latency?.map((r) => r.latency.p99) ?? []),
    ttfbP50: median(direct?.ttfb?.map((r) => r.ttfb.p50) ?? []),
    ttfbP99: median(direct?.ttfb?.map((r) => r.ttfb.p99) ?? []),
  }
  const out = {}
  for (const [name, t] of Object.entries(run.targets)) {
    if (t.failed) { out[name] = { failed: t.failed }; continue }
    const s = { errors: {} }
    for (const kind of ['nonStream', 'stream']) {
      s[kind] = {
        rps: stat(t[kind].map((r) => r.rps)),
        cpuUsPerRequest: stat(t[kind].map((r) => r.cpuUsPerRequest ?? NaN)),
        cpuUtilisation: stat(t[kind].map((r) => r.cpuUtilisation ?? NaN)),
      }
      s.errors[kind] = badCount(t[kind])
    }
    s.latencyP50 = stat(t.latency.map((r) => r.latency.p50))
    s.latencyP99 = stat(t.latency.map((r) => r.latency.p99))
    s.addedP50 = stat(t.latency.map((r) => r.latency.p50 - base.latencyP50))
    s.addedP99 = stat(t.latency.map((r) => r.latency.p99 - base.latencyP99))
    s.ttfbP50 = stat(t.ttfb.map((r) => r.ttfb.p50))
    s.ttfbP99 = stat(t.ttfb.map((r) => r.ttfb.p99))
    s.ttfbAddedP50 = stat(t.ttfb.map((r) => r.ttfb.p50 - base.ttfbP50))
    s.ttfbAddedP99 = stat(t.ttfb.map((r) => r.ttfb.p99 - base.ttfbP99))
    s.errors.latency = badCount(t.latency)
    s.errors.ttfb = badCount(t.ttfb)
    s.peakRssMiB = t.peakRssMiB ?? NaN
    const allReps = ['nonStream', 'stream', 'latency', 'ttfb'].flatMap((k) => t[k])
    s.disturbance = Math.max(0, ...allReps.map((r) => r.disturbance ?? 0))
    s.steal = median(allReps.map((r) => r.steal ?? NaN))
    out[name] = s
  }
  return out
}

const fmtInt = (x) => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—'
const fmtMs = (x, sign = false) => Number.isFinite(x) ? `${sign && x >= 0 ? '+' : ''}${x.toFixed(2)}` : '—'
const fmtPct = (x) => Number.isFinite(x) ? `${Math.round(x * 100)} %` : '—'

function cell (s, key, fmt, errorKey, noPidDash = false) {
  if (!s) return 'not run'
  if (s.failed) return 'FAILED'
  if (errorKey && s.errors[errorKey] > 0) return `ERRORS (${s.errors[errorKey]})`
  const v = key.split('.').reduce((o, k) => o?.[k], s)
  if (!v || !Number.isFinite(v.median)) return '—'
  if (noPidDash && !Number.isFinite(v.min)) return '—'
  return v.min === v.max || v.values.length < 2
    ? fmt(v.median)
    : `${fmt(v.median)} (${fmt(v.min)} – ${fmt(v.max)})`
}

function mainTable (run, sum) {
  const cols = COLUMNS.filter((c) => run.targets[c])
  const rows = [
    ['throughput, non-streaming (req/s)', (s) => cell(s, 'nonStream.rps', fmtInt, 'nonStream')],
    ['throughput, streaming (req/s)', (s) => cell(s, 'stream.rps', fmtInt, 'stream')],
    ['CPU per request, non-streaming (µs)', (s) => cell(s, 'nonStream.cpuUsPerRequest', fmtInt, 'nonStream')],
    ['CPU per request, streaming (µs)', (s) => cell(s, 'stream.cpuUsPerRequest', fmtInt, 'stream')],
    ['CPU use at saturation, non-streaming', (s) => cell(s, 'nonStream.cpuUtilisation', fmtPct, 'nonStream')],
    ['peak RSS (MiB)', (s) => s?.failed ? 'FAILED' : (Number.isFinite(s?.peakRssMiB) ? s.peakRssMiB.toFixed(0) : '—')],
    [`latency p50 at ${run.meta.settings.rate} req/s (ms)`, (s) => cell(s, 'latencyP50', fmtMs, 'latency')],
    [`latency p99 at ${run.meta.settings.rate} req/s (ms)`, (s) => cell(s, 'latencyP99', fmtMs, 'latency')],
    ['added latency p50 (ms)', (s, c) => c === 'direct' ? '—' : cell(s, 'addedP50', (x) => fmtMs(x, true), 'latency')],
    ['added latency p99 (ms)', (s, c) => c === 'direct' ? '—' : cell(s, 'addedP99', (x) => fmtMs(x, true), 'latency')],
    ['stream TTFB p50 (ms)', (s) => cell(s, 'ttfbP50', fmtMs, 'ttfb')],
    ['stream TTFB p99 (ms)', (s) => cell(s, 'ttfbP99', fmtMs, 'ttfb')],
    ['added stream TTFB p50 (ms)', (s, c) => c === 'direct' ? '—' : cell(s, 'ttfbAddedP50', (x) => fmtMs(x, true), 'ttfb')],
    ['added stream TTFB p99 (ms)', (s, c) => c === 'direct' ? '—' : cell(s, 'ttfbAddedP99', (x) => fmtMs(x, true), 'ttfb')],
    ['CPU taken by other processes, worst repetition', (s) => s?.failed ? 'FAILED' : fmtPct(s?.disturbance)],
    ['hypervisor steal, median repetition', (s) => s?.failed ? 'FAILED' : fmtPct(s?.steal)],
  ]
  const lines = [
    `| | ${cols.map((c) => run.targets[c].label).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
  ]
  for (const [label, fn] of rows) lines.push(`| ${label} | ${cols.map((c) => fn(sum[c], c)).join(' | ')} |`)
  return lines.join('\n')
}

/** A check is `null` (cannot be judged: a side failed, errored or did not run), true or false. */
function checks (sum) {
  const p = sum.portcullis
  const usable = (s, errKey) => s && !s.failed && s.errors[errKey] === 0
  const ratio = (a, b, kind) => usable(a, kind) && usable(b, kind) ? a[kind].rps.median / b[kind].rps.median : NaN
  const added = (key, errKey) => usable(p, errKey) ? p[key].median : NaN
  // The same ratio from CPU time per request: it barely moves when other work steals the CPU.
  const cpuRatio = (a, b, kind) => usable(a, kind) && usable(b, kind)
    ? b[kind].cpuUsPerRequest.median / a[kind].cpuUsPerRequest.median
    : NaN
  const pct = fmtPct
  const times = (x) => `${x.toFixed(1)}×`
  const rows = [
    ['Portcullis ÷ bare proxy, throughput non-streaming', ratio(p, sum.bare, 'nonStream'), '≥', GOALS.throughputVsBare, pct, cpuRatio(p, sum.bare, 'nonStream')],
    ['Portcullis ÷ bare proxy, throughput streaming', ratio(p, sum.bare, 'stream'), '≥', GOALS.throughputVsBare, pct, cpuRatio(p, sum.bare, 'stream')],
    ['Portcullis ÷ Portkey, throughput non-streaming', ratio(p, sum.portkey, 'nonStream'), '≥', GOALS.throughputVsPortkey, times, cpuRatio(p, sum.portkey, 'nonStream')],
    ['Portcullis ÷ Portkey, throughput streaming', ratio(p, sum.portkey, 'stream'), '≥', GOALS.throughputVsPortkey, times, cpuRatio(p, sum.portkey, 'stream')],
    ['Portcullis added latency p50 (ms)', added('addedP50', 'latency'), '≤', GOALS.addedP50Ms, (x) => fmtMs(x, true)],
    ['Portcullis added latency p99 (ms)', added('addedP99', 'latency'), '≤', GOALS.addedP99Ms, (x) => fmtMs(x, true)],
    ['Portcullis added stream TTFB p50 (ms)', added('ttfbAddedP50', 'ttfb'), '≤', GOALS.ttfbAddedP50Ms, (x) => fmtMs(x, true)],
  ]
  return rows.map(([label, value, op, goal, fmt, byCpu]) => ({
    label,
    value: Number.isFinite(value) ? value : null,
    text: Number.isFinite(value) ? fmt(value) : 'n/a',
    byCpu: Number.isFinite(byCpu) ? fmt(byCpu) : '',
    goal: `${op} ${fmt(goal)}`,
    pass: Number.isFinite(value) ? (op === '≥' ? value >= goal : value <= goal) : null,
  }))
}

function checksTable (rows) {
  const mark = (pass) => pass === null ? '— not measured' : pass ? '✅ pass' : '❌ FAIL'
  return ['| check | measured | goal | | same ratio from CPU per request |', '|---|---:|---:|---|---:|',
    ...rows.map((r) => `| ${r.label} | ${r.text} | ${r.goal} | ${mark(r.pass)} | ${r.byCpu} |`)].join('\n')
}

function comparisonLines (sum) {
  const lines = []
  const { bare, portcullis: p, portkey: k } = sum
  const ok = (s) => s && !s.failed
  if (ok(p) && ok(k) && p.errors.latency === 0 && k.errors.latency === 0) {
    lines.push(`- Added latency p50/p99, Portcullis vs Portkey: ${fmtMs(p.addedP50.median, true)} / ${fmtMs(p.addedP99.median, true)} ms vs ${fmtMs(k.addedP50.median, true)} / ${fmtMs(k.addedP99.median, true)} ms.`)
  }
  if (ok(p) && ok(bare) && p.errors.latency === 0 && bare.errors.latency === 0) {
    lines.push(`- Added latency p50/p99, Portcullis vs bare proxy: ${fmtMs(p.addedP50.median, true)} / ${fmtMs(p.addedP99.median, true)} ms vs ${fmtMs(bare.addedP50.median, true)} / ${fmtMs(bare.addedP99.median, true)} ms; at p50 Portcullis adds ${fmtMs(p.addedP50.median - bare.addedP50.median, true)} ms beyond the bare proxy, which measures what any extra Node hop costs on this machine.`)
  }
  if (ok(p) && ok(bare) && p.errors.ttfb === 0 && bare.errors.ttfb === 0) {
    lines.push(`- Added stream TTFB p50, Portcullis vs bare proxy: ${fmtMs(p.ttfbAddedP50.median, true)} vs ${fmtMs(bare.ttfbAddedP50.median, true)} ms.`)
  }
  const lim = sum['portcullis-limits']
  const red = sum['portcullis-redis']
  for (const [label, x] of [['limits on, in-process counters', lim], ['limits on, Redis counters', red]]) {
    if (ok(p) && ok(x) && p.errors.nonStream === 0 && x.errors.nonStream === 0 && x.errors.latency === 0) {
      const r = (kind) => x[kind].rps.median / p[kind].rps.median
      lines.push(`- ${label}: throughput ${fmtPct(r('nonStream'))} of Portcullis without limits non-streaming (goal ≥ 95 % in memory), ${fmtPct(r('stream'))} streaming; added latency p50 ${fmtMs(x.addedP50.median, true)} ms vs ${fmtMs(p.addedP50.median, true)} ms without limits (${fmtMs(x.addedP50.median - p.addedP50.median, true)} ms; goal for Redis ≤ +0.3 ms).`)
    }
  }
  const grd = sum['portcullis-guards']
  if (ok(p) && ok(grd) && p.errors.nonStream === 0 && grd.errors.nonStream === 0 && grd.errors.latency === 0) {
    const r = (kind) => grd[kind].rps.median / p[kind].rps.median
    lines.push(`- Content guards on (default actions): throughput ${fmtPct(r('nonStream'))} of Portcullis without guards non-streaming, ${fmtPct(r('stream'))} streaming (every chunk scanned); added latency p50 ${fmtMs(grd.addedP50.median, true)} ms vs ${fmtMs(p.addedP50.median, true)} ms without guards.`)
  }
  const off = sum['portcullis-no-evidence']
  if (ok(p) && ok(off) && p.errors.nonStream === 0 && off.errors.nonStream === 0) {
    const r = (kind) => p[kind].rps.median / off[kind].rps.median
    lines.push(`- audit + metrics on: throughput ${fmtPct(r('nonStream'))} of off (goal ≥ 95 %) non-streaming, ${fmtPct(r('stream'))} streaming; added latency p50 ${fmtMs(p.addedP50.median, true)} ms vs ${fmtMs(off.addedP50.median, true)} ms with the audit log and metrics off.`)
  }
  const jwt = sum['portcullis-jwt']
  if (ok(p) && ok(jwt) && ok(bare) && ok(k) && p.errors.nonStream === 0 && jwt.errors.nonStream === 0) {
    const r = (a, b, kind) => a[kind].rps.median / b[kind].rps.median
    lines.push(`- Callers with JWT access tokens instead of API keys: throughput ÷ bare proxy ${fmtPct(r(jwt, bare, 'nonStream'))} (API keys ${fmtPct(r(p, bare, 'nonStream'))}) non-streaming, ${fmtPct(r(jwt, bare, 'stream'))} (${fmtPct(r(p, bare, 'stream'))}) streaming; ÷ Portkey ${r(jwt, k, 'nonStream').toFixed(1)}× (${r(p, k, 'nonStream').toFixed(1)}×) non-streaming; added latency p50 ${fmtMs(jwt.addedP50.median, true)} ms (${fmtMs(p.addedP50.median, true)} ms).`)
  }
  for (const [name, s] of Object.entries(sum)) {
    if (ok(s) && s.steal > 0.1) {
      lines.push(`- ⚠️ ${name}: the hypervisor stole ${fmtPct(s.steal)} of a core in the median repetition (a busy host); its numbers are not comparable with a quiet run.`)
    }
    if (ok(s) && s.disturbance > 0.15) {
      lines.push(`- ⚠️ ${name}: in its worst repetition other processes took ${fmtPct(s.disturbance)} of a core even after retries; its numbers are disturbed.`)
    }
    if (name === 'direct' || !ok(s)) continue
    const util = s.nonStream.cpuUtilisation.median
    if (Number.isFinite(util) && util < 0.9 && s.errors.nonStream === 0) {
      lines.push(`- ⚠️ ${name} used only ${fmtPct(util)} of its core at saturation: the load generator and mock on CPU 1 may be the limit, so its throughput is a lower bound.`)
    }
  }
  return lines
}

function outputLines (run) {
  const noisy = Object.values(run.targets).filter((t) => t.outputTail?.length)
  if (noisy.length === 0) return []
  return ['## Output of the systems under test', '',
    ...noisy.flatMap((t) => [`${t.label}: lines of its output that mention a warning or an error (across its starts):`, '', '```', ...t.outputTail.map((l) => l.slice(0, 300)), '```', ''])]
}

function markdown (run, sum, rows) {
  const m = run.meta
  const st = m.settings
  const failures = Object.entries(run.targets).filter(([, t]) => t.failed)
  return [
    `# Portcullis benchmark${st.quick ? ' (quick smoke run — not for comparison)' : ''}`,
    '',
    `Generated by \`npm run bench\` on ${m.date}: Node ${m.node}, ${m.cpu}, ${m.cores} cores; system under test pinned to CPU ${m.sutCpu}, load generator and mock upstream to CPU ${m.loadCpu}. Portcullis ${m.portcullisCommit ?? 'unknown commit'}, Portkey gateway ${m.portkeyVersion ?? 'not installed'}. Mock upstream: ${m.mock}. Run took ${m.durationS} s, of which ${m.retrySeconds ?? 0} s re-ran disturbed repetitions.`,
    '',
    `Each cell: median of ${st.reps} repetitions (min – max). Saturation: autocannon, ${st.connections} connections, ${st.saturationS} s per repetition after ${st.warmupS} s warm-up. Latency: open loop at ${st.rate} req/s for ${st.latencyS} s, non-streaming. TTFB: open loop at ${st.rate} req/s for ${st.ttfbS} s, streaming from a mock that paces events ${st.chunkIntervalMs} ms apart; every stream is read to \`[DONE]\`. "Added" = target − direct (median of direct's repetitions). CPU per request = SUT user+system CPU ÷ requests answered.`,
    '',
    mainTable(run, sum),
    '',
    '## Goals',
    '',
    checksTable(rows),
    '',
    ...(comparisonLines(sum).length ? ['## Notes', '', ...comparisonLines(sum), ''] : []),
    ...outputLines(run),
    ...(run.guardsMicro ? ['## Content guards micro-benchmark', '', `\`${run.guardsMicro.command}\` (in-process, CPU ${m.loadCpu}):`, '', '```', ...(run.guardsMicro.lines ?? [`failed: ${run.guardsMicro.failed}`]), '```', ''] : []),
    ...(failures.length ? ['## Failures', '', ...failures.map(([, t]) => `- **${t.label}**: ${t.failed.split('\n')[0]}`), ''] : []),
  ].join('\n')
}

/** Prints the report and writes results/<name>.json and .md; `ok` is false on any failure or error. */
export function writeReport (run, name = 'latest') {
  const sum = summarise(run)
  const rows = checks(sum)
  const ok = Object.values(sum).every((s) => !s.failed && Object.values(s.errors).every((n) => n === 0))
  const md = markdown(run, sum, rows)
  console.log('\n' + md)
  const dir = join(benchDir, 'results')
  mkdirSync(dir, { recursive: true })
  const json = join(dir, `${name}.json`)
  const mdFile = join(dir, `${name}.md`)
  writeFileSync(json, JSON.stringify({ ok, ...run, summary: sum, goals: rows }, null, 2) + '\n')
  writeFileSync(mdFile, md)
  return { ok, files: [json, mdFile].map((f) => relative(process.cwd(), f)) }
}
