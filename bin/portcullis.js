#!/usr/bin/env node
// Entry point. TypeScript runs directly through Node's type stripping (Node >= 22.18), so the
// version is checked before anything written in TypeScript is loaded.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`portcullis: Node.js >= 22.18 is required (this is ${process.version}).\n` +
    'In a checkout, `export PATH="$(scripts/ensure-node.sh):$PATH"` installs Node 24 into a cache and uses it.\n')
  process.exit(1)
}
const { runCli } = await import('../src/cli/cli.ts')
process.exitCode = await runCli(process.argv.slice(2))
