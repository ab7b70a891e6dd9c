#!/usr/bin/env node
// Entry point. TypeScript runs directly through Node's type stripping (Node >= 22.18).
import { runCli } from '../src/cli/cli.ts'

process.exitCode = await runCli(process.argv.slice(2))
