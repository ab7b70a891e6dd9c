/**
 * Micro-benchmark of the evidence a proxy request leaves: CPU µs per request through the record
 * stage (`onRequest` + `onComplete`) with a real writer in a temp dir (default `fsync: interval`,
 * 1 s), the background write and fsync included, optionally with the metrics stages too.
 *
 *   node src/audit/bench-record.ts [--requests 100000] [--per-turn 32] [--runs 3]
 *
 * Requests are completed `--per-turn` at a time, then the event loop turns (as a server under
 * load does), so the writer's background flush batches them as it would in the gateway. The CPU
 * time is `process.cpuUsage()` (user + system, every thread: the fs writes run on libuv's pool)
 * from the first request until the writer has flushed and fsynced the last record, minus the
 * same loop with no stage at all. Prints the median of `--runs` runs. Not part of the test run;
 * numbers quoted in docs must come from this script's output.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { RequestContext } from '../pipeline/context.ts'
import type { Stage } from '../pipeline/stage.ts'
import type { Provider } from '../upstream/provider.ts'
import { configSchema } from '../config/config-schema.ts'
import { newRequestContext } from '../pipeline/new-request-context.ts'
import { silentLog } from '../pipeline/silent-log.ts'
import { buildMetrics } from '../observability/build-metrics.ts'
import { compileModelRoutes } from '../upstream/model-routes.ts'
import { buildAudit } from './build-audit.ts'
import { parseRequestMetadata } from './request-metadata.ts'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    'per-turn': { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' }
  }
})
const requests = positive('requests')
const perTurn = positive('per-turn')
const runs = positive('runs')

function positive (name: keyof typeof values): number {
  const value = Number(values[name])
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`)
  return value
}

const provider = { name: 'mock', type: 'mock' } as unknown as Provider
const signal = new AbortController().signal

/** A forwarded, settled chat request as the record stage sees it at completion. */
function realisticContext (i: number): RequestContext {
  const ctx = newRequestContext({
    requestId: 'req_' + randomBytes(12).toString('hex'),
    endpoint: 'chat.completions',
    method: 'POST',
    headers: { 'user-agent': 'OpenAI/JS 6.3.0', 'content-type': 'application/json' },
    socketIp: `203.0.113.${i % 250}`,
    rawBody: '{}',
    signal,
    log: silentLog
  })
  ctx.model = 'mock-gpt'
  ctx.principal = {
    kind: 'api_key', keyId: 'key_01HZX3N5R8QF2', clientId: null, subject: null, tokenId: null, name: 'bench',
    tenant: 'acme', scopes: new Set(['chat']), models: null, allowedIps: null
  }
  ctx.route = { upstream: 'mock', upstreamModel: 'mock-gpt', provider }
  ctx.upstream = { kind: 'json', status: 200, body: {}, usage: null, headers: {} } as unknown as RequestContext['upstream']
  ctx.ttfbMs = 1.234
  ctx.usage = { inputTokens: 27, outputTokens: 12 }
  ctx.costMicroUsd = 42
  ctx.metadata = parseRequestMetadata('{"team":"search","ticket":"OPS-1234","canary":false}', 1024)
  // Shaped like src/guards/guard-decisions.ts builds them (keys in canonical order).
  ctx.guards = [
    { action: 'allow', detector: 'pii', direction: 'input', ms: 0.041, types: [] },
    { action: 'allow', detector: 'secret', direction: 'input', ms: 0.041, types: [] },
    { action: 'allow', detector: 'injection', direction: 'input', ms: 0.012, score: 0.02, types: [] }
  ]
  ctx.status = 200
  return ctx
}

interface Setup {
  readonly stages: readonly Stage[]
  readonly flush: () => Promise<void>
  readonly close: () => Promise<void>
}

async function setUp (withAudit: boolean, withMetrics: boolean): Promise<Setup> {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-record-bench-'))
  const config = configSchema.parse({ data_dir: root, metrics: { enabled: withMetrics, process_metrics: false } })
  const audit = withAudit ? await buildAudit({ config, masterKey: randomBytes(32), log: silentLog }) : null
  const metrics = buildMetrics({ config, routes: compileModelRoutes([{ name: 'mock-*', upstream: 'mock' }]) })
  const stages: Stage[] = []
  if (audit !== null) stages.push(audit.stage)
  if (metrics.stages !== null) stages.push(metrics.stages.observe, metrics.stages.upstreamTimer)
  return {
    stages,
    flush: async () => { await audit?.writer.flush() },
    close: async () => {
      await audit?.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** CPU µs per request of `requests` requests through `stages`, the final flush included. */
async function measure (setup: Setup, contexts: readonly RequestContext[]): Promise<number> {
  const { stages } = setup
  const started = process.cpuUsage()
  for (let done = 0; done < requests;) {
    const end = Math.min(requests, done + perTurn)
    for (; done < end; done++) {
      const ctx = contexts[done % contexts.length] as RequestContext
      try {
        for (const stage of stages) await stage.onRequest?.(ctx)
      } catch {
        // As the pipeline does: a refused request (the audit queue is full) still completes.
        refused += 1
      }
      for (let s = stages.length - 1; s >= 0; s--) await stages[s]?.onComplete?.(ctx)
    }
    await turn()
  }
  await setup.flush()
  const used = process.cpuUsage(started)
  return (used.user + used.system) / requests
}

let refused = 0

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const contexts = Array.from({ length: 4096 }, (_, i) => realisticContext(i))
const variants = { none: [false, false], audit: [true, false], metrics: [false, true], audit_metrics: [true, true] } as const
const samples: Record<string, number[]> = { none: [], audit: [], metrics: [], audit_metrics: [] }
for (let run = 0; run < runs; run++) {
  for (const [name, [withAudit, withMetrics]] of Object.entries(variants)) {
    const setup = await setUp(withAudit, withMetrics)
    try {
      await measure(setup, contexts.slice(0, 256)) // warm-up: let the JIT settle
      samples[name]?.push(await measure(setup, contexts))
    } finally {
      await setup.close()
    }
  }
}
const base = median(samples.none ?? [])
const net = (name: string): string => (median(samples[name] ?? []) - base).toFixed(2)
const round = (xs: number[] | undefined): string => (xs ?? []).map((x) => x.toFixed(2)).join(', ')
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}`)
console.log(`${requests} requests per run, ${perTurn} per event-loop turn, median of ${runs} runs`)
console.log(`loop alone: ${base.toFixed(2)} µs/request (runs: ${round(samples.none)})`)
console.log(`audit record stage: ${net('audit')} µs/request CPU (runs: ${round(samples.audit)})`)
console.log(`metrics stages: ${net('metrics')} µs/request CPU (runs: ${round(samples.metrics)})`)
console.log(`audit + metrics: ${net('audit_metrics')} µs/request CPU (runs: ${round(samples.audit_metrics)})`)
if (refused > 0) console.log(`WARNING: ${refused} requests were refused because the audit queue was full (a slow disk): the numbers are not comparable`)
