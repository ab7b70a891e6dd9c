// Starting and stopping every process of a run: the mock upstream and the systems under test.
// The system under test runs on CPU 0; the mock upstream and the load generators on CPU 1.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

const benchDir = dirname(fileURLToPath(import.meta.url))
export const repoDir = dirname(benchDir)
const portcullisBin = join(repoDir, 'bin', 'portcullis.js')
const portkeyEntry = join(benchDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js')

export const SUT_CPU = 0
export const LOAD_CPU = 1
export const MODEL = 'bench-model'

const children = new Set()
const tempDirs = new Set()

/** Kills every child still running and removes temporary directories; safe to call twice. */
export function killAll () {
  for (const child of children) {
    try { child.kill('SIGKILL') } catch {}
  }
  children.clear()
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

/** Pins this process (all threads) to a CPU so that the load shares no core with the SUT. */
export function pinSelf (cpu) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`taskset failed (is util-linux installed?): ${r.stderr || r.error}`)
}

export async function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sutCommand = { wrap: [], nodeFlags: [] }

/** Runs every system under test started from now on as `...wrap node ...nodeFlags <args>`. */
export function setSutCommand ({ wrap = [], nodeFlags = [] } = {}) {
  sutCommand.wrap = wrap
  sutCommand.nodeFlags = nodeFlags
}

/** Spawns `node <args>` pinned to `cpu`; keeps the tail of its output for error messages. */
function spawnNode (name, cpu, args, env = {}) {
  // The system under test may run under a wrapper (instructions.mjs: valgrind) and with extra
  // node flags; the load generator and the mock never do.
  const underTest = cpu === SUT_CPU
  const wrap = underTest ? sutCommand.wrap : []
  const flags = underTest ? sutCommand.nodeFlags : []
  const child = spawn('taskset', ['-c', String(cpu), ...wrap, process.execPath, ...flags, ...args], {
    cwd: repoDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  let partial = ''
  const notable = []
  const keep = (chunk) => {
    const text = chunk.toString()
    tail = (tail + text).slice(-4000)
    const lines = (partial + text).split('\n')
    partial = lines.pop()
    for (const line of lines) {
      if (notable.length < 20 && /error|warn|exception|fail|^\(node:\d+\)/i.test(line)) notable.push(line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim())
    }
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  children.add(child)
  child.on('exit', () => children.delete(child))
  const proc = {
    name,
    child,
    // `taskset CMD` execs CMD, so the child's pid is the node process itself.
    pid: child.pid,
    output: () => tail.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim(),
    /** Lines that mention a warning or an error, wherever they were printed (at most 20). */
    notable: () => [...notable],
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop () {
      if (proc.exited()) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await gone
      clearTimeout(timer)
    },
  }
  return proc
}

/** Polls `url` until `ok(response)`; fails with the process's output if it exits or times out. */
async function waitReady (proc, url, { timeoutMs = 30_000, ok = (r) => r.status === 200 } = {}) {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (proc.exited()) {
      throw new Error(`${proc.name} exited (code ${proc.child.exitCode}) before it was ready:\n${proc.output()}`)
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (ok(res)) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = err.cause?.code ?? err.message
    }
    await sleep(100)
  }
  await proc.stop()
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${proc.output()}`)
}

export function portcullisCommandExists (command) {
  if (!existsSync(portcullisBin)) return false
  const r = spawnSync(process.execPath, [portcullisBin, command, '--help'], { cwd: repoDir, encoding: 'utf8', timeout: 20_000 })
  return r.status === 0
}

/**
 * The mock upstream is Portcullis's own (`portcullis mock-upstream`). BENCH_MOCK_SCRIPT replaces it
 * with another script taking the same flags; it exists only to debug this harness.
 */
export async function startMock ({ latencyMs = 0, chunkIntervalMs = 0 } = {}) {
  const port = await freePort()
  const flags = ['--host', '127.0.0.1', '--port', String(port),
    '--latency-ms', String(latencyMs), '--chunk-interval-ms', String(chunkIntervalMs)]
  const script = process.env.BENCH_MOCK_SCRIPT
  if (!script && !portcullisCommandExists('mock-upstream')) {
    throw new Error('`portcullis mock-upstream` is not available (node bin/portcullis.js mock-upstream --help failed)')
  }
  const args = script ? [script, ...flags] : [portcullisBin, 'mock-upstream', ...flags]
  const proc = spawnNode(`mock upstream (${chunkIntervalMs} ms/chunk)`, LOAD_CPU, args)
  const url = `http://127.0.0.1:${port}`
  await waitReady(proc, `${url}/v1/models`)
  return { ...proc, url, kind: script ? `${script} (BENCH_MOCK_SCRIPT)` : 'portcullis mock-upstream' }
}

const chatPath = '/v1/chat/completions'

/** Each target: `start(mockUrl)` → { url, path, headers, pid?, stop() }. */
export const targets = {
  direct: {
    label: 'direct',
    description: 'straight to the mock upstream',
    async start (mockUrl) {
      return { url: mockUrl, path: chatPath, headers: {}, pid: null, stop: async () => {} }
    },
  },

  bare: {
    label: 'bare proxy',
    description: 'bench/bare-proxy.mjs: node:http + keep-alive agent, no checks',
    async start (mockUrl) {
      const port = await freePort()
      const proc = spawnNode('bare proxy', SUT_CPU, [join(benchDir, 'bare-proxy.mjs'), '--port', String(port), '--upstream', mockUrl])
      const url = `http://127.0.0.1:${port}`
      await waitReady(proc, `${url}/v1/models`)
      return { url, path: chatPath, headers: {}, pid: proc.pid, stop: proc.stop, output: proc.output, notable: proc.notable }
    },
  },

  portcullis: {
    label: 'Portcullis',
    description: 'node bin/portcullis.js start, every stage on, API key auth',
    start: (mockUrl) => startPortcullis(mockUrl, 'api_key'),
  },

  'portcullis-jwt': {
    label: 'Portcullis (JWT)',
    description: 'the same Portcullis, callers authenticated with an OAuth access token (client credentials, EdDSA JWT) instead of an API key',
    start: (mockUrl) => startPortcullis(mockUrl, 'jwt'),
  },

  'portcullis-limits': {
    label: 'Portcullis (limits)',
    description: 'Portcullis with limits on and never reached: global, per-model and per-key RPM/TPM/concurrency and a per-key daily budget, in-process counters',
    start: (mockUrl) => startPortcullis(mockUrl, 'api_key', { limits: true }),
  },

  'portcullis-guards': {
    label: 'Portcullis (guards)',
    description: 'Portcullis with the content guards on at their default actions (input: PII flag, secrets block, injection block; output: PII flag, secrets redact, streamed answers scanned per chunk)',
    start: (mockUrl) => startPortcullis(mockUrl, 'api_key', { guards: true }),
  },

  'portcullis-no-evidence': {
    label: 'Portcullis (no evidence)',
    description: 'Portcullis with the audit log and metrics off (audit.enabled: false, metrics.enabled: false): what the evidence costs',
    start: (mockUrl) => startPortcullis(mockUrl, 'api_key', { evidence: false }),
  },

  'portcullis-redis': {
    label: 'Portcullis (limits, Redis)',
    description: 'the same limits with the counters in Redis (127.0.0.1:6379): one Lua script per request',
    start: (mockUrl) => startPortcullis(mockUrl, 'api_key', { limits: true, redis: true }),
  },

  portkey: {
    label: 'Portkey',
    description: '@portkey-ai/gateway (build/start-server.js --headless), provider openai, custom host',
    async start (mockUrl) {
      if (!existsSync(portkeyEntry)) throw new Error(`Portkey not installed (${portkeyEntry}); run npm --prefix bench ci`)
      const port = await freePort()
      const proc = spawnNode('Portkey', SUT_CPU, [portkeyEntry, `--port=${port}`, '--headless'])
      const url = `http://127.0.0.1:${port}`
      await waitReady(proc, `${url}/`)
      return {
        url,
        path: chatPath,
        headers: {
          authorization: 'Bearer sk-bench-portkey',
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${mockUrl}/v1`,
        },
        pid: proc.pid,
        stop: proc.stop,
        output: proc.output,
        notable: proc.notable,
      }
    },
  },
}

export function portkeyVersion () {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')).version
  } catch { return null }
}

/**
 * Portcullis with an API key, or with an access token obtained at /oauth/token (`auth: 'jwt'`);
 * `guards: true` leaves the content guards at their defaults; `evidence: false` turns the audit
 * log and the metrics off (every other target keeps both at their defaults: fsync every second).
 */
async function startPortcullis (mockUrl, auth, { limits = false, redis = false, guards = false, evidence = true } = {}) {
  if (!portcullisCommandExists('start')) throw new Error('`portcullis start` is not available yet')
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'))
  tempDirs.add(dataDir)
  const configFile = join(dataDir, 'bench-config.json')
  // Limits high enough never to refuse: the benchmark measures what checking them costs.
  const never = { requests_per_minute: 100_000_000, tokens_per_minute: 1_000_000_000, concurrent_requests: 100_000 }
  writeFileSync(configFile, JSON.stringify({
    upstreams: [{ name: 'bench', type: 'openai', base_url: `${mockUrl}/v1`, api_key: { env: 'BENCH_PROVIDER_KEY' } }],
    models: [{ name: MODEL, upstream: 'bench' }],
    // The guards are on by default; every other target measures the gateway without them, as
    // before they existed, and `portcullis-guards` measures what they cost.
    guards: { enabled: guards },
    ...(evidence ? {} : { audit: { enabled: false }, metrics: { enabled: false } }),
    ...(limits
      ? {
          limits: { global: never, models: [{ model: MODEL, ...never }], per_credential: never },
          prices: [{ model: MODEL, input_per_million_usd: 0.15, output_per_million_usd: 0.6 }],
        }
      : {}),
    // For experiments by hand: BENCH_EXTRA_CONFIG='{"metrics":{"enabled":false}}' merges on top.
    ...JSON.parse(process.env.BENCH_EXTRA_CONFIG ?? '{}'),
  }, null, 2), { mode: 0o600 })
  const port = await freePort()
  const adminKey = randomBytes(36).toString('base64url')
  const proc = spawnNode('Portcullis', SUT_CPU, [portcullisBin, 'start', '--config', configFile], {
    PORTCULLIS_DATA_DIR: join(dataDir, 'data'),
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_PORT: String(port),
    PORTCULLIS_ADMIN_KEY: adminKey,
    PORTCULLIS_LOG_LEVEL: 'warn',
    BENCH_PROVIDER_KEY: 'sk-bench-' + randomBytes(12).toString('hex'),
    ...(redis ? { PORTCULLIS_REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', PORTCULLIS_REDIS_PREFIX: `pcl-bench-${randomBytes(4).toString('hex')}:` } : {}),
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => { await proc.stop(); rmSync(dataDir, { recursive: true, force: true }); tempDirs.delete(dataDir) }
  try {
    await waitReady(proc, `${url}/healthz`, { timeoutMs: 60_000 })
    const secret = auth === 'jwt' ? await obtainAccessToken(url, adminKey) : await createApiKey(url, adminKey)
    if (limits) {
      // A per-key policy with a daily budget that the run cannot spend: one more set of counters.
      const keys = await adminGet(url, adminKey, '/keys')
      await adminPost(url, adminKey, '/policies', {
        target: { kind: 'key', id: keys.data[0].id }, requests_per_minute: 100_000_000, tokens_per_minute: 1_000_000_000, budget_usd: 1_000_000, budget_period: 'daily',
      })
    }
    return { url, path: chatPath, headers: { authorization: `Bearer ${secret}` }, pid: proc.pid, stop, output: proc.output, notable: proc.notable }
  } catch (err) {
    const out = proc.output()
    await stop()
    throw new Error(`Portcullis: ${err.message}${out && !err.message.includes(out) ? `\n${out}` : ''}`)
  }
}

async function adminPost (url, adminKey, path, body) {
  const res = await fetch(`${url}/admin/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status < 200 || res.status > 299) throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 500)}`)
  return JSON.parse(text)
}

async function adminGet (url, adminKey, path) {
  const res = await fetch(`${url}/admin/v1${path}`, { headers: { authorization: `Bearer ${adminKey}` } })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${text.slice(0, 500)}`)
  return JSON.parse(text)
}

async function createApiKey (url, adminKey) {
  const { secret } = await adminPost(url, adminKey, '/keys', { name: 'bench', scopes: ['chat', 'completions', 'embeddings'] })
  if (typeof secret !== 'string' || !secret) throw new Error('creating an API key: no "secret" in the answer')
  return secret
}

async function obtainAccessToken (url, adminKey) {
  const client = await adminPost(url, adminKey, '/clients', { name: 'bench', scopes: ['chat', 'completions', 'embeddings'] })
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`POST /oauth/token: HTTP ${res.status} ${text.slice(0, 500)}`)
  return JSON.parse(text).access_token
}
