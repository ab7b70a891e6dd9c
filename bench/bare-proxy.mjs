// The physical limit of a Node reverse proxy on this machine: node:http in, node:http out over a
// keep-alive agent, bodies streamed through in both directions, no checks of any kind.
// Usage: node bare-proxy.mjs --port <p> --upstream http://127.0.0.1:<mockport>
import http from 'node:http'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
  },
})
if (!values.upstream) throw new Error('bare-proxy: --upstream is required')
const upstream = new URL(values.upstream)
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host }
  const out = http.request({
    host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent,
  }, (up) => {
    res.writeHead(up.statusCode, up.headers)
    up.pipe(res)
  })
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: 'upstream error', code: 'upstream_error' } }))
  })
  req.pipe(out)
})
server.keepAliveTimeout = 65_000
server.listen(Number(values.port), values.host, () => {
  console.log(`bare proxy listening on http://${values.host}:${server.address().port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
