import type { Command } from './command.ts'
import { startCommand } from './start-command.ts'
import { keysCommands } from './keys-command.ts'
import { clientsCommands } from './clients-command.ts'
import { signingKeysCommands } from './signing-keys-command.ts'
import { policiesCommands } from './policies-command.ts'
import { pricesCommands } from './prices-command.ts'
import { usageCommands } from './usage-command.ts'
import { auditCommands } from './audit-command.ts'
import { mockUpstreamCommand } from './mock-upstream-command.ts'

/** Every CLI command, in the order `portcullis --help` lists them. */
export const commands: readonly Command[] = [
  startCommand,
  ...keysCommands,
  ...clientsCommands,
  ...signingKeysCommands,
  ...policiesCommands,
  ...pricesCommands,
  ...usageCommands,
  ...auditCommands,
  mockUpstreamCommand
]
