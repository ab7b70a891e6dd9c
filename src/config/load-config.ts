import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { configSchema, type Config } from './config-schema.ts'

/** What the CLI passes in; every field optional. */
export interface ConfigFlags {
  config?: string | undefined
  host?: string | undefined
  port?: string | undefined
  dataDir?: string | undefined
}

export interface LoadConfigOptions {
  flags?: ConfigFlags
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/** A config that failed validation; `message` names every bad field. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Raw = Record<string, unknown>

/**
 * Environment variables and where they land in the config. Secrets (`*_KEY`, `*_URL` that may
 * carry passwords) become `{ env: NAME }` references, so the value never enters the config object.
 */
export const envVariables: ReadonlyArray<{ name: string, path: readonly string[], kind: 'string' | 'int' | 'list' | 'secret', doc: string }> = [
  { name: 'PORTCULLIS_CONFIG', path: [], kind: 'string', doc: 'Config file (YAML or JSON); default ./portcullis.yaml if present' },
  { name: 'PORTCULLIS_HOST', path: ['server', 'host'], kind: 'string', doc: 'Bind address (default 127.0.0.1)' },
  { name: 'PORTCULLIS_PORT', path: ['server', 'port'], kind: 'int', doc: 'Port (default 8080)' },
  { name: 'PORTCULLIS_TRUSTED_PROXIES', path: ['server', 'trusted_proxies'], kind: 'list', doc: 'Comma-separated CIDRs whose X-Forwarded-For is believed' },
  { name: 'PORTCULLIS_MAX_BODY_BYTES', path: ['server', 'max_body_bytes'], kind: 'int', doc: 'Largest request body (default 1048576)' },
  { name: 'PORTCULLIS_DATA_DIR', path: ['data_dir'], kind: 'string', doc: 'Data directory (default ./data), created 0700' },
  { name: 'PORTCULLIS_MASTER_KEY', path: ['master_key'], kind: 'secret', doc: 'Base64 of 32 bytes; unset = DATA_DIR/master.key generated on first start' },
  { name: 'PORTCULLIS_ADMIN_KEY', path: ['admin_key'], kind: 'secret', doc: 'Bootstrap admin credential (at least 32 characters); also used by the CLI' },
  { name: 'PORTCULLIS_DATABASE_URL', path: ['database_url'], kind: 'secret', doc: 'Unset = SQLite in the data dir' },
  { name: 'PORTCULLIS_DATABASE_SCHEMA', path: ['database_schema'], kind: 'string', doc: 'PostgreSQL schema (default portcullis)' },
  { name: 'PORTCULLIS_REDIS_URL', path: ['redis_url'], kind: 'secret', doc: 'Unset = in-process counters' },
  { name: 'PORTCULLIS_REDIS_PREFIX', path: ['redis_key_prefix'], kind: 'string', doc: 'Prefix of Redis keys and channels (default portcullis:)' },
  { name: 'PORTCULLIS_OAUTH_ISSUER', path: ['oauth', 'issuer'], kind: 'string', doc: 'Public https origin of the gateway, the `iss` of its access tokens (default: the listener URL, loopback only)' },
  { name: 'PORTCULLIS_LOG_LEVEL', path: ['log', 'level'], kind: 'string', doc: 'fatal, error, warn, info (default), debug, trace, silent' }
]

function setPath (target: Raw, path: readonly string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Raw
  }
  node[path[path.length - 1] as string] = value
}

function envValue (kind: 'string' | 'int' | 'list' | 'secret', name: string, value: string): unknown {
  if (kind === 'int') {
    if (!/^\d+$/.test(value)) throw new ConfigError(`${name}: expected a whole number`)
    return Number(value)
  }
  if (kind === 'list') return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (kind === 'secret') return { env: name }
  return value
}

function readConfigFile (file: string): Raw {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let parsed: unknown
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true })
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must contain an object`)
  return parsed as Raw
}

function formatIssues (issues: ReadonlyArray<{ path: PropertyKey[], message: string }>): string {
  return issues.map((i) => `  - ${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`).join('\n')
}

/**
 * Builds the config: defaults ← config file ← PORTCULLIS_* environment ← CLI flags.
 * Loads `.env` from the working directory first (without overriding the real environment).
 */
export function loadConfig (options: LoadConfigOptions = {}): { config: Readonly<Config>, file: string | null } {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const flags = options.flags ?? {}
  const dotenv = resolve(cwd, '.env')
  if (options.env === undefined && existsSync(dotenv)) process.loadEnvFile(dotenv)

  const explicit = flags.config ?? env.PORTCULLIS_CONFIG
  const defaultFile = resolve(cwd, 'portcullis.yaml')
  const file = explicit !== undefined ? resolve(cwd, explicit) : (existsSync(defaultFile) ? defaultFile : null)
  const raw: Raw = file === null ? {} : readConfigFile(file)

  for (const v of envVariables) {
    const value = env[v.name]
    if (v.path.length === 0 || value === undefined || value === '') continue
    setPath(raw, v.path, envValue(v.kind, v.name, value))
  }
  if (flags.host !== undefined) setPath(raw, ['server', 'host'], flags.host)
  if (flags.port !== undefined) setPath(raw, ['server', 'port'], envValue('int', '--port', flags.port))
  if (flags.dataDir !== undefined) setPath(raw, ['data_dir'], flags.dataDir)

  const result = configSchema.safeParse(raw)
  if (!result.success) throw new ConfigError(`invalid configuration${file === null ? '' : ` (${file})`}:\n${formatIssues(result.error.issues)}`)
  return { config: deepFreeze(result.data), file }
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
