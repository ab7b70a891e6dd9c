import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'

const bin = new URL('../../bin/portcullis.js', import.meta.url).pathname

export interface GatewayProcessOptions {
  /** Bootstrap admin key (`PORTCULLIS_ADMIN_KEY`); instances of one cluster share it. */
  readonly adminKey: string
  /** Extra environment: `PORTCULLIS_MASTER_KEY`, `PORTCULLIS_DATABASE_URL`, `PORTCULLIS_REDIS_URL`, … */
  readonly env?: Record<string, string>
  /** Raw config (as in portcullis.yaml), written to the process's data dir as JSON. */
  readonly config?: Record<string, unknown>
  /** Default 20 s: the start loads both tokenizers and may run migrations. */
  readonly startTimeoutMs?: number
}

export interface GatewayProcess {
  readonly url: string
  readonly adminKey: string
  readonly child: ChildProcess
  /** The JSON log lines the process wrote to stdout so far. */
  logs (): string
  /** The banner and CLI messages written to stderr so far. */
  stderr (): string
  admin (method: string, path: string, body?: unknown): Promise<Response>
  /** Creates an API key through this instance's admin API. */
  createKey (body?: Record<string, unknown>): Promise<{ id: string, secret: string }>
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); removes the data dir. Idempotent. */
  stop (graceMs?: number): Promise<number | null>
}

/**
 * Starts `bin/portcullis.js start` as a user runs it, on 127.0.0.1 port 0 with a fresh data dir,
 * and waits until it listens. The environment is built from scratch (PATH and HOME only), so no
 * `PORTCULLIS_*` variable of the test runner leaks in.
 */
export async function startGatewayProcess (options: GatewayProcessOptions): Promise<GatewayProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-proc-'))
  const args = [bin, 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]
  if (options.config !== undefined) {
    const file = join(dataDir, 'config.json')
    await writeFile(file, JSON.stringify(options.config), { mode: 0o600 })
    args.push('--config', file)
  }
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORTCULLIS_ADMIN_KEY: options.adminKey, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  let stopping: Promise<number | null> | null = null
  const stop = (graceMs = 5_000): Promise<number | null> => {
    stopping ??= (async () => {
      let code = child.exitCode
      if (code === null && child.signalCode === null) {
        const exited = once(child, 'exit') as Promise<[number | null]>
        child.kill('SIGTERM')
        const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
        code = (await exited)[0]
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true })
      return code
    })()
    return stopping
  }

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000)
  const listening = /listening on (http:\/\/\S+)/
  while (!listening.test(err)) {
    // `portcullis: <reason>` is how the CLI reports a failed start; the process may linger after it.
    if (child.exitCode !== null || /^portcullis: /m.test(err) || Date.now() > deadline) {
      await stop(1_000)
      throw new Error(`gateway process did not start:\n${err}\n${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const url = (listening.exec(err) as RegExpExecArray)[1] as string

  async function admin (method: string, path: string, body?: unknown): Promise<Response> {
    return await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${options.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  }

  return {
    url,
    adminKey: options.adminKey,
    child,
    logs: () => out,
    stderr: () => err,
    admin,
    async createKey (body = {}) {
      const res = await admin('POST', '/admin/v1/keys', { name: 'test', scopes: ['chat', 'completions', 'embeddings', 'models:read'], ...body })
      const json = await res.json() as { id: string, secret: string }
      if (res.status !== 201 && res.status !== 200) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(json)}`)
      return { id: json.id, secret: json.secret }
    },
    stop
  }
}
