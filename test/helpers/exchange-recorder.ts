import { connect } from 'node:net'

/** One request the test made and everything it got back, for the canary search. */
export interface Exchange {
  readonly label: string
  readonly status: number
  /** Status line and headers, one `name: value` a line. */
  readonly head: string
  readonly body: string
  /**
   * Canary names this answer exists to show (the secret of a key create/rotate reply, a client
   * secret, an access token). The search requires them here and refuses every other one.
   */
  shows: string[]
}

export interface ExchangeRecorder {
  readonly exchanges: Exchange[]
  /** fetch() against the gateway; the whole body (a stream included) is read and kept. */
  send (label: string, path: string, init?: RequestInit): Promise<Exchange & { json: any }>
  /** Writes raw bytes on a fresh TCP connection and keeps whatever comes back until it closes. */
  raw (label: string, bytes: string | Buffer): Promise<Exchange>
  /** Keeps an answer obtained elsewhere (another process, another port). */
  keep (exchange: Exchange): Exchange
}

function parseJson (text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** Records every exchange with a gateway at `baseUrl` (127.0.0.1, plain HTTP). */
export function createExchangeRecorder (baseUrl: string): ExchangeRecorder {
  const exchanges: Exchange[] = []
  const url = new URL(baseUrl)
  return {
    exchanges,
    async send (label, path, init = {}) {
      const res = await fetch(baseUrl + path, init)
      const body = await res.text()
      const head = [`HTTP ${res.status}`, ...[...res.headers].map(([name, value]) => `${name}: ${value}`)].join('\n')
      const exchange: Exchange = { label, status: res.status, head, body, shows: [] }
      exchanges.push(exchange)
      return Object.assign(exchange, { json: parseJson(body) })
    },
    async raw (label, bytes) {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname)
        const chunks: Buffer[] = []
        const timer = setTimeout(() => { socket.destroy() }, 3_000)
        socket.on('data', (c: Buffer) => chunks.push(c))
        socket.on('error', reject)
        socket.on('close', () => {
          clearTimeout(timer)
          resolve(Buffer.concat(chunks).toString('latin1'))
        })
        socket.end(bytes)
      })
      const split = text.indexOf('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      const exchange: Exchange = {
        label, status, head: split === -1 ? text : text.slice(0, split), body: split === -1 ? '' : text.slice(split + 4), shows: []
      }
      exchanges.push(exchange)
      return exchange
    },
    keep (exchange) {
      exchanges.push(exchange)
      return exchange
    }
  }
}
