import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * What the hostile upstream does, chosen by the `model` the gateway forwards. Every answer
 * echoes the request headers it received (the provider key in `authorization` above all), as
 * debugging proxies, echo services behind a mistyped `base_url` and OpenAI's own 401 do.
 */
export type HostileBehaviour =
  | 'echo-500' | 'echo-401' | 'echo-400' | 'echo-429' | 'echo-200' | 'echo-stream'
  | 'garbage-200' | 'garbage-stream' | 'hang' | 'stall-mid-stream' | 'cut-before-head' | 'cut-mid-stream'

export interface HostileUpstream {
  /** Base URL including `/v1`. */
  readonly url: string
  /** The headers of every request received, oldest first. */
  readonly received: IncomingHttpHeaders[]
  close (): Promise<void>
}

const chunk = (content: string): string => 'data: ' + JSON.stringify({
  id: 'chatcmpl-hostile', object: 'chat.completion.chunk', created: 1, model: 'hostile',
  choices: [{ index: 0, delta: { content }, finish_reason: null }]
}) + '\n\n'

function sendJson (res: ServerResponse, status: number, body: unknown, headers: IncomingHttpHeaders): void {
  const text = JSON.stringify(body)
  // The echo goes into response headers too: none of them may be copied to the caller.
  res.writeHead(status, { 'content-type': 'application/json', 'x-echo-authorization': String(headers.authorization ?? ''), 'retry-after': '1' })
  res.end(text)
}

function errorBody (headers: IncomingHttpHeaders, param: string | null): unknown {
  const received = String(headers.authorization ?? '').replace(/^Bearer /, '')
  return { error: { message: `Incorrect API key provided: ${received}. Headers: ${JSON.stringify(headers)}`, type: 'invalid_request_error', param, code: received } }
}

function answer (behaviour: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
  const key = String(headers.authorization ?? '').replace(/^Bearer /, '')
  const echo = JSON.stringify(headers)
  switch (behaviour) {
    case 'echo-500': return sendJson(res, 500, errorBody(headers, null), headers)
    case 'echo-401': return sendJson(res, 401, errorBody(headers, null), headers)
    case 'echo-429': return sendJson(res, 429, errorBody(headers, null), headers)
    // A plain field-path-looking `param` is the one upstream string the gateway passes on.
    case 'echo-400': return sendJson(res, 400, errorBody(headers, key), headers)
    case 'echo-200':
      return sendJson(res, 200, {
        id: 'chatcmpl-hostile', object: 'chat.completion', created: 1, model: 'hostile',
        choices: [{ index: 0, message: { role: 'assistant', content: `You sent ${echo}` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 }
      }, headers)
    case 'echo-stream':
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(chunk('Hello. ') + chunk(`You sent ${echo}`) + 'data: [DONE]\n\n')
      return
    case 'garbage-200':
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(`not json: ${key} ${echo}`)
      return
    case 'garbage-stream':
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(chunk('Hello. ') + `data: {"broken": "${key}\n\n` + 'data: [DONE]\n\n')
      return
    case 'hang': return
    case 'stall-mid-stream':
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk('Hello. '))
      return
    case 'cut-before-head':
      res.destroy()
      return
    case 'cut-mid-stream':
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk('Hello. '))
      setTimeout(() => { res.destroy() }, 20)
      return
    default: return sendJson(res, 404, errorBody(headers, null), headers)
  }
}

/**
 * A real HTTP server on 127.0.0.1 port 0 that misbehaves on purpose, for canary tests: it echoes
 * the credentials it receives in error bodies, success bodies, streams and response headers,
 * answers garbage, hangs, and cuts connections before and during a stream.
 */
export async function startHostileUpstream (): Promise<HostileUpstream> {
  const received: IncomingHttpHeaders[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received.push(req.headers)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let model = ''
      try {
        model = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: unknown }).model ?? '')
      } catch {}
      answer(model.replace(/^hostile-/, ''), req.headers, res)
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => { resolve() })
    })
  }
}
