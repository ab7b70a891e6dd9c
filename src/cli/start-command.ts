import type { Command } from './command.ts'
import { loadConfig, ConfigError } from '../config/load-config.ts'
import { startGateway, type RunningGateway } from '../main.ts'
import { startupBanner } from './startup-banner.ts'

export const startCommand: Command = {
  name: 'start',
  summary: 'Start the gateway (SQLite in ./data and the built-in mock provider by default)',
  help: `Usage: portcullis start [options]

Starts the gateway. With no upstream configured it serves the built-in mock provider, so the
demo works without a provider key. On first start it creates DATA_DIR/master.key, prints a
bootstrap admin key and a demo API key once, and a working curl line.

Options:
  --config FILE     Config file, YAML or JSON (default ./portcullis.yaml if present)
  --host ADDR       Bind address (default 127.0.0.1; env PORTCULLIS_HOST)
  --port N          Port (default 8080; env PORTCULLIS_PORT)
  --data-dir DIR    Data directory (default ./data; env PORTCULLIS_DATA_DIR)
  -h, --help        This help

Environment: see example.env and docs/config.md.
Stops gracefully on SIGTERM/SIGINT: in-flight requests and streams finish
(up to server.shutdown_timeout_ms), then the store is closed and the process exits 0.`,
  options: {
    config: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' }
  },
  async run (args, io) {
    let gateway: RunningGateway
    try {
      const { config, file } = loadConfig({
        flags: {
          config: args.values.config as string | undefined,
          host: args.values.host as string | undefined,
          port: args.values.port as string | undefined,
          dataDir: args.values['data-dir'] as string | undefined
        }
      })
      gateway = await startGateway({ config })
      io.err(startupBanner({ url: gateway.url, configFile: file, firstStart: gateway.firstStart, upstreams: gateway.upstreamSummary }))
    } catch (err) {
      if (err instanceof ConfigError || (err as Error).name === 'StartupError') {
        io.err(`portcullis: ${(err as Error).message}`)
        return 1
      }
      throw err
    }
    return await waitForSignal(gateway, io)
  }
}

function waitForSignal (gateway: RunningGateway, io: { err (line: string): void }): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        io.err(`portcullis: ${signal} again, exiting now`)
        resolve(1)
        return
      }
      stopping = true
      io.err(`portcullis: ${signal} received, draining in-flight requests…`)
      gateway.close().then(() => {
        io.err('portcullis: stopped')
        resolve(0)
      }, (err: unknown) => {
        io.err(`portcullis: shutdown failed: ${(err as Error).message}`)
        resolve(1)
      })
    }
    process.on('SIGTERM', () => { stop('SIGTERM') })
    process.on('SIGINT', () => { stop('SIGINT') })
  })
}
