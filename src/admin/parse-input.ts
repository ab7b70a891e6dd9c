import type { z } from 'zod'
import { GatewayError } from '../errors/gateway-error.ts'

/**
 * Validates admin API input with a strict zod schema. The first problem becomes
 * `invalid_request` with `param` naming the field (an unknown field names itself), so a typo
 * is an error rather than a silently ignored option. Messages never echo the submitted value.
 */
export function parseInput<T extends z.ZodType> (schema: T, input: unknown, prefix = ''): z.output<T> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  if (issue === undefined) throw new GatewayError('invalid_request')
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path
  const param = prefix + path.map(String).join('.')
  const message = issue.code === 'unrecognized_keys'
    ? `Unknown field "${param}".`
    : `${param === '' ? 'The request' : param}: ${issue.message}`
  throw new GatewayError('invalid_request', { param: param === '' ? null : param, message })
}
