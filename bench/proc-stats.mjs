// CPU time and peak memory of a process, from Linux's /proc (proc(5)).
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const clockTicks = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
})()

/** User + system CPU seconds used so far by `pid` (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after it start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}

/** Peak resident set size of `pid` in MiB (VmHWM in /proc/<pid>/status). */
export function peakRssMiB (pid) {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : NaN
}

export function cpuModel () {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    return match ? match[1].trim() : 'unknown'
  } catch { return 'unknown' }
}

function pidTicks (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch { return 0 }
}

/** Busy (user + nice + system) and steal ticks of each CPU, from /proc/stat. */
function cpuTicks () {
  const out = {}
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.+)$/.exec(line)
    if (!m) continue
    const [user, nice, system, , , , , steal] = m[2].trim().split(/\s+/).map(Number)
    out[m[1]] = { busy: user + nice + system, steal }
  }
  return out
}

/**
 * Watches how much of each CPU went to processes that are not part of the run (another build or
 * test on a shared machine) and how much the hypervisor stole. `ours` maps a CPU to our pids on it.
 * Returns a function that ends the watch with fractions of one core per CPU.
 */
export function watchInterference (ours) {
  const t0 = performance.now()
  const cpu0 = cpuTicks()
  const pids0 = Object.fromEntries(Object.entries(ours).map(([cpu, pids]) => [cpu, pids.map(pidTicks)]))
  return () => {
    const seconds = (performance.now() - t0) / 1000
    const cpu1 = cpuTicks()
    const result = {}
    for (const [cpu, pids] of Object.entries(ours)) {
      // A CPU none of our processes runs on cannot disturb the measurement.
      if (pids.length === 0 || !cpu0[cpu] || !cpu1[cpu]) continue
      const own = pids.reduce((sum, pid, i) => sum + pidTicks(pid) - pids0[cpu][i], 0)
      const foreign = cpu1[cpu].busy - cpu0[cpu].busy - own
      result[`cpu${cpu}`] = {
        foreign: Math.max(0, foreign / clockTicks / seconds),
        steal: (cpu1[cpu].steal - cpu0[cpu].steal) / clockTicks / seconds,
      }
    }
    return result
  }
}
