import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'

// The real CLI as a user runs it: `portcullis start` with no config, in an empty directory.
const bin = new URL('../../bin/portcullis.js', import.meta.url).pathname
let cwd: string

interface Started { child: ChildProcess, url: string, stderr: () => string, stdout: () => string }

async function startProcess (env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0'], {
    cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  let out = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  const deadline = Date.now() + 15_000
  while (!/listening on (http:\S+)/.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gateway did not start:\n${err}\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const url = (/listening on (http:\S+)/.exec(err) as RegExpExecArray)[1] as string
  return { child, url, stderr: () => err, stdout: () => out }
}

async function stop (p: Started): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode
  p.child.kill('SIGTERM')
  const [code] = await once(p.child, 'exit') as [number | null]
  return code
}

before(async () => { cwd = await mkdtemp(join(tmpdir(), 'portcullis-start-')) })
after(async () => { await rm(cwd, { recursive: true, force: true }) })

test('first start: admin and demo keys printed once, the printed curl line works, files are private', async () => {
  const first = await startProcess()
  try {
    const banner = first.stderr()
    const adminKey = /Bootstrap admin key[^\n]*\n\s+(\S+)/.exec(banner)?.[1]
    const demoKey = /Demo API key[^\n]*\n\s+(\S+)/.exec(banner)?.[1]
    assert.ok(adminKey !== undefined && demoKey !== undefined, banner)
    assert.match(banner, /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/)
    assert.match(banner, /new OpenAI\(\{ baseURL:/)

    const res = await fetch(first.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${demoKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] })
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-portcullis-mock'), 'true')
    const keys = await fetch(first.url + '/admin/v1/keys', { headers: { authorization: `Bearer ${adminKey}` } })
    assert.equal(keys.status, 200)
    // Secrets go to the terminal once, never into the JSON logs.
    assert.ok(!first.stdout().includes(adminKey as string) && !first.stdout().includes(demoKey as string))

    const dataDir = join(cwd, 'data')
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
    // Recursive: the audit directory is 0700 and its segments and checkpoints 0600.
    for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name)
      assert.equal((await stat(path)).mode & 0o777, entry.isDirectory() ? 0o700 : 0o600, `${path} must be ${entry.isDirectory() ? '0700' : '0600'}`)
    }
  } finally {
    assert.equal(await stop(first), 0)
  }

  const second = await startProcess()
  try {
    assert.doesNotMatch(second.stderr(), /Bootstrap admin key|Demo API key/, 'secrets are shown only on the start that made them')
  } finally {
    assert.equal(await stop(second), 0)
  }
})

test('SIGTERM lets an in-flight stream finish, refuses new work, then exits 0', async () => {
  const adminKey = 'adm_' + 'k'.repeat(40)
  const p = await startProcess({ PORTCULLIS_ADMIN_KEY: adminKey })
  const created = await fetch(p.url + '/admin/v1/keys', {
    method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'drain', scopes: ['chat'] })
  })
  const { secret } = await created.json() as { secret: string }
  const res = await fetch(p.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'slow stream #mock:interval=150 #mock:tokens=20' }] })
  })
  assert.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  await reader.read()
  p.child.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const late = await fetch(p.url + '/v1/models', { headers: { authorization: `Bearer ${secret}` } })
    .then(async (r) => { await r.arrayBuffer(); return r.status }, () => 'refused')
  assert.ok(late === 503 || late === 'refused', `a request during the drain got ${String(late)}`)
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    text += Buffer.from(value).toString()
  }
  assert.match(text, /data: \[DONE\]/, 'the stream in flight completed')
  const [code] = await once(p.child, 'exit') as [number | null]
  assert.equal(code, 0)
  assert.match(p.stderr(), /SIGTERM received/)
})

test('an invalid config exits non-zero naming the field', async () => {
  const child = spawn(process.execPath, [bin, 'start'], { cwd, env: { PATH: process.env.PATH ?? '', PORTCULLIS_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  assert.equal(code, 1)
  assert.match(err, /PORTCULLIS_PORT/)
})

test('an unreachable PostgreSQL or Redis stops the start with a message naming the setting, never the password', async () => {
  const password = 'pw-canary-' + Date.now()
  for (const [name, value, field] of [
    ['PORTCULLIS_DATABASE_URL', `postgres://portcullis:${password}@127.0.0.1:1/test`, 'database_url'],
    ['PORTCULLIS_REDIS_URL', `redis://:${password}@127.0.0.1:1`, 'redis_url']
  ] as const) {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0'], { cwd, env: { PATH: process.env.PATH ?? '', [name]: value }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const [code] = await once(child, 'exit') as [number | null]
    assert.equal(code, 1, out)
    assert.match(out, new RegExp(`${field}: cannot`))
    assert.ok(!out.includes(password), 'the password in the URL is not echoed')
  }
})
