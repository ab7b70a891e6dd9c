import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../src/config/load-config.ts'
import { startGateway, type RunningGateway } from '../../src/main.ts'
import { fastScrypt } from '../../src/oauth/oauth-test-fixture.ts'

export interface TestGateway {
  readonly url: string
  readonly adminKey: string
  readonly dataDir: string
  readonly gateway: RunningGateway
  /** Every log line the gateway wrote, for canary assertions. */
  readonly logs: string[]
  /** Creates an API key through the admin API and returns its secret and id. */
  createKey (body?: Record<string, unknown>): Promise<{ id: string, secret: string }>
  /** Registers an OAuth client through the admin API and returns its id and secret (shown once). */
  createClient (body?: Record<string, unknown>): Promise<{ id: string, secret: string }>
  admin (method: string, path: string, body?: unknown): Promise<Response>
  /** POSTs a form to an OAuth endpoint (`/oauth/token`, …) with client_secret_basic authentication. */
  oauthPost (path: string, client: { id: string, secret: string }, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>
  close (): Promise<void>
}

/** RFC 6749 §2.3.1 `client_secret_basic`: id and secret form-urlencoded, joined by `:`, base64. */
export function basicAuth (id: string, secret: string): string {
  const encode = (text: string): string => new URLSearchParams({ v: text }).toString().slice(2)
  return 'Basic ' + Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')
}

export interface TestGatewayOptions {
  /** Raw config (as in portcullis.yaml) written to a temp file. */
  config?: Record<string, unknown>
  /** Extra environment (secret references resolve against it). */
  env?: Record<string, string>
  logLevel?: string
  /**
   * Start on this existing data dir (master key, SQLite store) instead of a fresh one, e.g. to
   * restart a gateway that was closed with `keepDataDir`.
   */
  dataDir?: string
  /** Leave the data dir on disk at `close()`, so another gateway can start on it. */
  keepDataDir?: boolean
}

/** Starts a real gateway in this process on 127.0.0.1, port 0, with a fresh (or the given) data dir. */
export async function startTestGateway (options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'portcullis-test-'))
  const adminKey = 'adm_' + randomBytes(24).toString('hex')
  const env: NodeJS.ProcessEnv = {
    PORTCULLIS_PORT: '0',
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_ADMIN_KEY: adminKey,
    PORTCULLIS_LOG_LEVEL: options.logLevel ?? 'debug',
    ...options.env
  }
  let configFile: string | undefined
  if (options.config !== undefined) {
    configFile = join(dataDir, 'config.json')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(configFile, JSON.stringify(options.config))
  }
  const { config } = loadConfig({ env, flags: { config: configFile }, cwd: dataDir })
  const logs: string[] = []
  const destination = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(line)
      done()
    }
  })
  // Client secrets are hashed with cheap scrypt parameters here; production uses N=2^15.
  const gateway = await startGateway({ config, env, logDestination: destination, scryptParams: fastScrypt })
  const url = gateway.url

  async function admin (method: string, path: string, body?: unknown): Promise<Response> {
    return await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  }

  return {
    url,
    adminKey,
    dataDir,
    gateway,
    logs,
    admin,
    async oauthPost (path, client, form, headers = {}) {
      return await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.id, client.secret), ...headers },
        body: new URLSearchParams(form)
      })
    },
    async createKey (body = {}) {
      const res = await admin('POST', '/admin/v1/keys', { name: 'test', scopes: ['chat', 'completions', 'embeddings', 'models:read'], ...body })
      const json = await res.json() as { id: string, secret: string }
      if (res.status !== 201 && res.status !== 200) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(json)}`)
      return { id: json.id, secret: json.secret }
    },
    async createClient (body = {}) {
      const res = await admin('POST', '/admin/v1/clients', { name: 'test-client', scopes: ['chat', 'completions', 'embeddings', 'models:read'], ...body })
      const json = await res.json() as { client_id: string, client_secret: string }
      if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${JSON.stringify(json)}`)
      return { id: json.client_id, secret: json.client_secret }
    },
    async close () {
      await gateway.close()
      if (options.keepDataDir !== true) await rm(dataDir, { recursive: true, force: true })
    }
  }
}
