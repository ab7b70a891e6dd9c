import { isIP } from 'node:net'
import { getCACertificates } from 'node:tls'
import { Agent, request } from 'undici'

export interface BoundedFetchLimits {
  readonly maxBytes: number
  readonly timeoutMs: number
}

/**
 * Refuses any key-material URL that is not https: whoever can alter the JWKS in transit can
 * mint tokens. Plain http is allowed for loopback only, where tests run their identity providers.
 */
export function assertTrustedUrl (value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${what} is not a valid URL: ${value}`)
  }
  if (url.username !== '' || url.password !== '') throw new Error(`${what} must not carry credentials`)
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url
  throw new Error(`${what} must use https (plain http is allowed for loopback only): ${value}`)
}

function isLoopback (hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

/** One agent per key source; verification cannot be switched off, a private CA is added instead. */
export function createKeyFetchAgent (timeoutMs: number, caPem: string | null): Agent {
  return new Agent({
    connections: 2,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: {
      timeout: timeoutMs,
      rejectUnauthorized: true,
      ...(caPem === null ? {} : { ca: [...getCACertificates('default'), caPem] })
    }
  })
}

/**
 * GETs a JSON document with a hard size and time limit. Redirects are not followed (undici's
 * default), so a 3xx is a failure rather than a detour to a host nobody configured.
 */
export async function fetchBoundedJson (agent: Agent, url: URL, limits: BoundedFetchLimits): Promise<unknown> {
  const response = await request(url, {
    dispatcher: agent,
    method: 'GET',
    headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'portcullis' },
    signal: AbortSignal.timeout(limits.timeoutMs)
  })
  const { body } = response
  try {
    if (response.statusCode !== 200) throw new Error(`key source answered HTTP ${response.statusCode}`)
    const declared = Number(response.headers['content-length'])
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      throw new Error(`key source response of ${declared} bytes exceeds ${limits.maxBytes}`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of body) {
      const buffer = chunk as Buffer
      size += buffer.length
      if (size > limits.maxBytes) throw new Error(`key source response exceeds ${limits.maxBytes} bytes`)
      chunks.push(buffer)
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } finally {
    // Stops reading a hostile or oversized body; the abort this raises on the stream is expected.
    if (!body.destroyed) body.on('error', () => {}).destroy()
  }
}
