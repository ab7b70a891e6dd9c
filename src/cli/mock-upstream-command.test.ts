import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mockUpstreamCommand } from './mock-upstream-command.ts'
import { parseCommandArgs, UsageError, type CliIo } from './command.ts'

function io (): CliIo & { lines: string[] } {
  const lines: string[] = []
  return { lines, out: (line) => { lines.push(line) }, err: () => {}, env: {} }
}

test('mock-upstream prints its URL, serves the OpenAI API, and stops on SIGTERM', async () => {
  const out = io()
  const running = mockUpstreamCommand.run(parseCommandArgs(mockUpstreamCommand, ['--port', '0', '--latency-ms', '0']), out)
  const deadline = Date.now() + 3_000
  while (out.lines.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  const url = out.lines[0] ?? assert.fail('no URL printed')
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
  const models = await fetch(`${url}/models`)
  assert.equal(models.status, 200)
  assert.equal(((await models.json()) as { data: unknown[] }).data.length, 2)
  process.emit('SIGTERM')
  assert.equal(await running, 0)
})

test('mock-upstream rejects bad numbers as usage errors', async () => {
  await assert.rejects(mockUpstreamCommand.run(parseCommandArgs(mockUpstreamCommand, ['--latency-ms=-5']), io()), UsageError)
  await assert.rejects(mockUpstreamCommand.run(parseCommandArgs(mockUpstreamCommand, ['--failure-rate', '2']), io()), UsageError)
})
