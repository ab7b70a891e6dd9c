// Load generators. Closed-loop saturation with autocannon; open-loop fixed rate with undici, which
// measures latency from the moment a request is sent and the time to the first body byte.
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { setTimeout as sleep } from 'node:timers/promises'
import { MODEL } from './targets.mjs'

/** The request bodies: a short chat, as a client library sends it. */
export function chatBody (stream) {
  return JSON.stringify({
    model: MODEL,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
    ],
    max_tokens: 32,
    ...(stream ? { stream: true } : {}),
  })
}

function requestHeaders (target) {
  return { 'content-type': 'application/json', accept: 'application/json', ...target.headers }
}

/** Closed-loop chat requests to `target` with autocannon; `options` says how many or how long. */
function closedLoop (target, stream, options) {
  return autocannon({
    url: target.url + target.path,
    method: 'POST',
    headers: requestHeaders(target),
    body: chatBody(stream),
    ...options,
  })
}

/** `amount` non-streaming requests over `connections` keep-alive connections; resolves with how many got a 2xx. */
export async function sendRequests (target, { amount, connections = 16 }) {
  const result = await closedLoop(target, false, { connections, amount, timeout: 120 })
  return result['2xx']
}

/** Saturation: `connections` keep-alive connections, each sending the next request on the last answer. */
export async function saturate (target, { stream, connections, seconds }) {
  const result = await closedLoop(target, stream, { connections, pipelining: 1, duration: seconds, timeout: 10 })
  const ok = result['2xx']
  return {
    rps: ok / result.duration,
    requests: ok,
    durationS: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
  }
}

export function percentile (sorted, p) {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

/**
 * Open loop: fires `rate` requests per second for `seconds` whatever the answers do (so a slow
 * target cannot slow the load down), consumes every body to its end, and records per request the
 * total latency and the time to the first body byte, in ms from the moment the request was sent.
 * A streamed body must end with `data: [DONE]`, otherwise the request counts as an error.
 */
export async function openLoop (target, { stream, rate, seconds, connections = 128, timeoutMs = 10_000 }) {
  const pool = new Pool(target.url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  })
  const body = chatBody(stream)
  const headers = requestHeaders(target)
  const total = Math.round(rate * seconds)
  const intervalMs = 1000 / rate
  const latencies = []
  const ttfbs = []
  const statusCodes = {}
  const failures = []
  let non2xx = 0
  let errors = 0

  async function one () {
    const sent = performance.now()
    try {
      const res = await pool.request({ path: target.path, method: 'POST', headers, body })
      statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1
      let first = 0
      let head = ''
      let tail = ''
      for await (const chunk of res.body) {
        if (first === 0) first = performance.now()
        if (head.length < 300) head += chunk.toString('utf8', 0, 300)
        tail = (tail + chunk.toString('latin1')).slice(-64)
      }
      const end = performance.now()
      if (res.statusCode < 200 || res.statusCode > 299) {
        non2xx++
        if (failures.length < 3) failures.push(`HTTP ${res.statusCode}: ${head.slice(0, 300)}`)
        return
      }
      if (stream && !tail.includes('data: [DONE]')) {
        errors++
        if (failures.length < 3) failures.push(`stream ended without [DONE]: …${tail}`)
        return
      }
      latencies.push(end - sent)
      ttfbs.push((first || end) - sent)
    } catch (err) {
      errors++
      if (failures.length < 3) failures.push(err.code ?? err.message)
    }
  }

  const inflight = []
  const start = performance.now() + 1
  let i = 0
  while (i < total) {
    const now = performance.now()
    while (i < total && start + i * intervalMs <= now) {
      inflight.push(one())
      i++
    }
    if (i < total) await sleep(Math.max(0, start + i * intervalMs - performance.now()))
  }
  const firedS = (performance.now() - start) / 1000
  await Promise.all(inflight)
  await pool.close()

  latencies.sort((a, b) => a - b)
  ttfbs.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    achievedRate: total / firedS,
    non2xx,
    errors,
    statusCodes,
    failures,
    latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN },
    ttfb: { p50: percentile(ttfbs, 50), p99: percentile(ttfbs, 99), max: ttfbs.at(-1) ?? NaN },
  }
}

/** One request of each kind, checked for shape: a target that answers wrongly fails here, loudly. */
export async function preflight (target, { stream }) {
  const res = await fetch(target.url + target.path, {
    method: 'POST',
    headers: requestHeaders(target),
    body: chatBody(stream),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  const what = `${stream ? 'streaming' : 'non-streaming'} chat completion`
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}: ${text.slice(0, 500)}`)
  if (stream) {
    const type = res.headers.get('content-type') ?? ''
    if (!type.startsWith('text/event-stream')) throw new Error(`${what}: content-type ${type}`)
    if (!text.includes('data: [DONE]')) {
      throw new Error(`${what}: the stream has no [DONE] event (${text.length} bytes${text ? `, ending …${JSON.stringify(text.slice(-200))}` : ''})`)
    }
    const events = text.split('\n\n').filter((e) => e.startsWith('data: {'))
    if (events.length < 2) throw new Error(`${what}: fewer than 2 events: ${text.slice(0, 300)}`)
    return { events: events.length, bytes: text.length }
  }
  const json = JSON.parse(text)
  if (!json.choices?.[0]?.message) throw new Error(`${what}: no choices[0].message in ${text.slice(0, 300)}`)
  return { bytes: text.length }
}
