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
