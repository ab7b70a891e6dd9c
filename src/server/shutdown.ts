import type { Logger as PinoLogger } from 'pino'
import type { GatewayServer } from './build-server.ts'

/**
 * Graceful drain: stop accepting connections, answer new requests on kept-alive connections
 * with 503, let in-flight requests and streams finish, and after `timeoutMs` cut what is left.
 */
export async function shutdownGracefully (server: GatewayServer, timeoutMs: number, logger: PinoLogger): Promise<void> {
  server.startDraining()
  const http = server.app.server
  // Connections that finish their last response become idle; close them as they do.
  const idleSweep = setInterval(() => { http.closeIdleConnections() }, 100)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => { resolve('timeout') }, timeoutMs) })
  try {
    const outcome = await Promise.race([server.app.close().then(() => 'closed' as const), deadline])
    if (outcome === 'timeout') {
      logger.warn({ timeout_ms: timeoutMs }, 'shutdown timeout: closing the remaining connections')
      http.closeAllConnections()
      await server.app.close()
    }
  } finally {
    clearInterval(idleSweep)
    clearTimeout(timer)
  }
}
