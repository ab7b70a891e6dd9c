import { UsageError, type Command, type CommandArgs } from './command.ts'
import { startMockUpstream } from '../upstream/mock/mock-upstream-server.ts'

function intOption (args: CommandArgs, name: string, fallback: number, max: number): number {
  const raw = args.values[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}`)
  return value
}

function rateOption (args: CommandArgs): number {
  const raw = args.values['failure-rate']
  if (raw === undefined) return 0
  const value = Number(raw)
  if (typeof raw !== 'string' || raw.trim() === '' || !(value >= 0 && value <= 1)) throw new UsageError('--failure-rate must be a number from 0 to 1')
  return value
}

export const mockUpstreamCommand: Command = {
  name: 'mock-upstream',
  summary: 'Run the built-in mock provider as an OpenAI-compatible HTTP server (demos, tests, benchmarks)',
  help: `Usage: portcullis mock-upstream [options]

Serves the mock provider over HTTP with the OpenAI API: POST /v1/chat/completions,
/v1/completions, /v1/embeddings (real SSE streaming) and GET /v1/models. Answers are
deterministic and labelled (x-portcullis-mock: true, owned_by: portcullis-mock). Prints the
base URL (with /v1) to use as an upstream base_url. Stops on SIGINT/SIGTERM.

Options:
  --host ADDR               Bind address (default 127.0.0.1)
  --port N                  Port (default 9100; 0 picks a free one)
  --latency-ms N            Delay before each response head (default 0)
  --chunk-interval-ms N     Delay between streamed chunks (default 0)
  --failure-rate R          Fraction of requests answered with HTTP 500, 0 to 1 (default 0)
  -h, --help                This help

Directives in the last user message (or prompt, or embeddings input) drive failures:
  #mock:status=N        answer with HTTP N (400-599)
  #mock:latency=MS      delay before the head
  #mock:interval=MS     delay between chunks
  #mock:error_after=N   send N chunks, then break the connection
  #mock:stall[=N]       send N chunks (default 1), then go silent
  #mock:tokens=N        reply with exactly N tokens (max_tokens still truncates)`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'latency-ms': { type: 'string' },
    'chunk-interval-ms': { type: 'string' },
    'failure-rate': { type: 'string' }
  },
  async run (args, io) {
    const host = typeof args.values.host === 'string' ? args.values.host : '127.0.0.1'
    const mock = await startMockUpstream({
      host,
      port: intOption(args, 'port', 9100, 65_535),
      latencyMs: intOption(args, 'latency-ms', 0, 600_000),
      chunkIntervalMs: intOption(args, 'chunk-interval-ms', 0, 600_000),
      failureRate: rateOption(args)
    })
    io.out(mock.url)
    io.err('portcullis mock-upstream: serving the mock provider; stop with Ctrl-C')
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await mock.close()
    return 0
  }
}
