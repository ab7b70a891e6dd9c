import { z } from 'zod'
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

/** `?limit=&after=&tenant=` of every list route (cursor paging, newest first). */
export const listQuery = z.strictObject({
  limit: z.string().regex(/^\d{1,3}$/, 'must be an integer from 1 to 100').transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100')).optional(),
  after: z.string().max(64).optional(),
  tenant: z.string().max(128).optional()
})

/** The body of a secret rotation (keys, clients). */
export const rotateBody = z.strictObject({ grace_period_seconds: z.number().int().min(0).optional() })

/** Actions without parameters still refuse unknown fields. */
export const emptyBody = z.strictObject({})
