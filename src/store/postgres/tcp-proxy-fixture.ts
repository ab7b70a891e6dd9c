import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** A local TCP hop for tests: forwards to a real server until `cut()`, then accepts and stays silent (a null target is silent from the start). */
export interface TcpProxy {
  readonly port: number
  /** Drops every open connection; later connections are accepted and never answered. */
  cut (): void
  /** Forwards new connections again. */
  resume (): void
  close (): Promise<void>
}

export async function startTcpProxy (target: { host: string, port: number } | null): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let forwarding = target !== null
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    if (!forwarding || target === null) return
    const upstream = connect(target.port, target.host)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => socket.destroy())
    socket.on('close', () => upstream.destroy())
    upstream.on('close', () => socket.destroy())
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut () {
      forwarding = false
      for (const s of sockets) s.destroy()
    },
    resume () {
      forwarding = target !== null
    },
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
