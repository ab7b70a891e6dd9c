import { z } from 'zod'
import type { secretRefSchema as SecretRefSchema } from './config-schema.ts'

/**
 * The `guards` config section (docs/guards.md, "Policies"). Global defaults, then `policies`
 * targeting a tenant, an API key or an OAuth client; the most specific wins field by field
 * (key, then client, over tenant over global). Everything here is compiled once at start-up
 * (src/guards/guard-policy.ts). The finding-type names are repeated here because config may not
 * import the guard library; a unit test keeps the lists in step with the detectors.
 */

export const guardActions = ['block', 'redact', 'flag', 'off'] as const
export type GuardAction = typeof guardActions[number]

export const piiTypeNames = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'cn_resident_id', 'ipv4', 'ipv6', 'date_of_birth'] as const
export const secretTypeNames = [
  'openai', 'anthropic', 'aws_access_key', 'aws_secret_key', 'github', 'slack', 'slack_webhook', 'google_api_key',
  'stripe', 'jwt', 'bearer', 'private_key', 'generic', 'portcullis'
] as const

const action = z.enum(guardActions)
const blockOrFlag = z.enum(['block', 'flag', 'off'])

/** `{ action, types: { <type>: action } }` for one detector in one direction. */
function detectorSection (types: readonly [string, ...string[]], defaults: { action: GuardAction }, what: string) {
  const typeMap = z.partialRecord(z.enum(types), action)
    .describe(`Per finding type overrides of \`action\` (${types.map((t) => '`' + t + '`').join(', ')})`)
  return {
    full: z.strictObject({
      action: action.default(defaults.action).describe(`What to do with ${what}: \`block\`, \`redact\` (typed placeholder such as \`[EMAIL_1]\`), \`flag\` (pass; audit record and \`x-portcullis-guards\` header) or \`off\``),
      types: typeMap.default({})
    }),
    partial: z.strictObject({
      action: action.optional().describe(`Overrides the action for ${what}`),
      types: typeMap.optional()
    })
  }
}

/** Input sections also say whether redacted values come back in the response. */
function inputSection (section: ReturnType<typeof detectorSection>) {
  return {
    full: section.full.extend({ restore: z.boolean().default(false).describe('Put values redacted on input back into the response for the same caller (JSON and streamed); the upstream only ever sees placeholders') }),
    partial: section.partial.extend({ restore: z.boolean().optional().describe('Overrides `restore`') })
  }
}

const inPii = inputSection(detectorSection(piiTypeNames, { action: 'flag' }, 'personal data in the prompt'))
const inSecret = inputSection(detectorSection(secretTypeNames, { action: 'block' }, 'credentials in the prompt'))
const outPii = detectorSection(piiTypeNames, { action: 'flag' }, 'personal data in the answer')
const outSecret = detectorSection(secretTypeNames, { action: 'redact' }, 'credentials in the answer')

const injectionFull = z.strictObject({
  action: blockOrFlag.default('block').describe('A user or tool message scoring at least `threshold`: `block` (400 `prompt_blocked`), `flag` or `off`'),
  threshold: z.number().min(0.05).max(1).default(0.5).describe('Score (0..1) at which a message counts as an injection attempt')
})
const injectionPartial = z.strictObject({
  action: blockOrFlag.optional().describe('Overrides the injection action'),
  threshold: z.number().min(0.05).max(1).optional().describe('Overrides the injection threshold')
})

const requestLimitFields = {
  max_messages: z.number().int().min(1).nullable().describe('Most chat messages per request (400 `invalid_request`, `param: messages`)'),
  max_message_chars: z.number().int().min(1).nullable().describe('Most characters per message, prompt or embeddings input (`param` names the offending element)'),
  max_tokens: z.number().int().min(1).nullable().describe('Largest `max_tokens` / `max_completion_tokens` a request may ask for'),
  allowed_roles: z.array(z.string().min(1)).nullable().describe('Message roles a request may use (e.g. `["user", "assistant"]` to keep callers from sending `system`); null = any'),
  allowed_tools: z.array(z.string().min(1)).nullable().describe('Function names a request may offer in `tools` / `functions`; null = any, `[]` = none')
}

const requestLimitsFull = z.strictObject({
  max_messages: requestLimitFields.max_messages.default(null),
  max_message_chars: requestLimitFields.max_message_chars.default(null),
  max_tokens: requestLimitFields.max_tokens.default(null),
  allowed_roles: requestLimitFields.allowed_roles.default(null),
  allowed_tools: requestLimitFields.allowed_tools.default(null)
}).prefault({}).describe('Limits on the shape of a request; a violation is 400 `invalid_request` with the field in `param`')

const requestLimitsPartial = z.strictObject({
  max_messages: requestLimitFields.max_messages.optional(),
  max_message_chars: requestLimitFields.max_message_chars.optional(),
  max_tokens: requestLimitFields.max_tokens.optional(),
  allowed_roles: requestLimitFields.allowed_roles.optional(),
  allowed_tools: requestLimitFields.allowed_tools.optional()
}).describe('Overrides of `request_limits`, field by field')

const recordSample = z.strictObject({
  max_chars: z.number().int().min(16).max(65_536).default(2_048).describe('Longest prompt (and completion) sample kept, after masking')
}).nullable().describe('Record a sample of the prompt and completion in the audit record (`sample`), with every PII and secret value masked whatever the actions say, cut to `max_chars`; null = never (the default: prompts and completions are not recorded)')

const inputFull = z.strictObject({
  pii: inPii.full.prefault({}).describe('PII in the prompt (default `flag`: personal data is often legitimate, so it is recorded; choose `redact` + `restore` to keep it from the provider)'),
  secrets: inSecret.full.prefault({}).describe('Credentials in the prompt (default `block`: a key sent to a provider must be rotated, so the request is refused before it leaves)'),
  injection: injectionFull.prefault({}).describe('Prompt injection in user and tool messages (default `block` at 0.5: 0 % benign false positives on the evaluation corpus)')
}).prefault({}).describe('Input guards (the request, before it is routed)')

const outputFull = z.strictObject({
  pii: outPii.full.prefault({}).describe('PII in the answer (default `flag`)'),
  secrets: outSecret.full.prefault({}).describe('Credentials in the answer (default `redact`: a model echoing a key must not hand it out, and redacting keeps the answer usable)')
}).prefault({}).describe('Output guards (the answer, JSON or streamed)')

const policyOverrides = z.strictObject({
  target: z.strictObject({
    kind: z.enum(['tenant', 'key', 'client']).describe('`key` = an API key id, `client` = an OAuth client id, `tenant` = a tenant name'),
    id: z.string().min(1).max(256).describe('The key id, client id or tenant')
  }).describe('Who the policy applies to'),
  input: z.strictObject({
    pii: inPii.partial.optional().describe('Overrides of `guards.input.pii`'),
    secrets: inSecret.partial.optional().describe('Overrides of `guards.input.secrets`'),
    injection: injectionPartial.optional().describe('Overrides of `guards.input.injection`'),
    guard_model: blockOrFlag.optional().describe('Overrides `guard_model.action`')
  }).optional().describe('Overrides of `guards.input`'),
  output: z.strictObject({
    pii: outPii.partial.optional().describe('Overrides of `guards.output.pii`'),
    secrets: outSecret.partial.optional().describe('Overrides of `guards.output.secrets`')
  }).optional().describe('Overrides of `guards.output`'),
  request_limits: requestLimitsPartial.optional(),
  record_sample: recordSample.optional()
})

/**
 * The section's schema. A factory taking the secret-reference schema, because config-schema.ts
 * (which defines it) imports this file: a plain import back would be a cycle.
 */
export function createGuardsSchema (secretRefSchema: typeof SecretRefSchema) {
  const guardModelSchema = z.strictObject({
    base_url: z.url({ protocol: /^https?$/ }).describe('OpenAI-compatible base URL of the guard model (e.g. vLLM serving Llama Guard), `/chat/completions` is appended. Operator configuration only; credentials in the URL are refused'),
    model: z.string().min(1).describe('Model name sent to the guard endpoint'),
    api_key: secretRefSchema.optional().describe('Sent as `Authorization: Bearer`; never logged'),
    ca: secretRefSchema.optional().describe('Extra PEM CA bundle for a private guard endpoint (verification stays on)'),
    timeout_ms: z.number().int().min(10).max(60_000).default(2_000).describe('Budget for one guard call (connect + answer)'),
    on_failure: z.enum(['fail_closed', 'fail_open']).default('fail_closed').describe('The guard model gives no verdict (timeout, error, unparseable answer): refuse with 503 `service_unavailable` when the action is `block` (`fail_closed`), or let the request pass (`fail_open`); either way it is recorded'),
    score_threshold: z.number().min(0).max(1).default(0.5).describe('Prompt Guard style scores below this are benign'),
    action: blockOrFlag.default('block').describe('What an `unsafe` verdict does: `block`, `flag` or `off`')
  }).optional().describe('A second opinion from a guard model on every request that passed the local detectors; unset = not used')

  return z.strictObject({
    enabled: z.boolean().default(true).describe('Run the content guards and request limits; false removes both stages from the request path'),
    input: inputFull,
    output: outputFull,
    injection_weights: z.record(z.string(), z.number().min(0).max(1)).default({}).describe('Per-signal weight overrides of the injection detector (docs/guards.md); 0 turns a signal off'),
    guard_model: guardModelSchema,
    request_limits: requestLimitsFull,
    record_sample: recordSample.default(null),
    policies: z.array(policyOverrides).default([]).describe('Overrides per tenant, API key or OAuth client; most specific wins field by field (key, then client, over tenant over global)')
  }).superRefine((g, ctx) => {
    const seen = new Set<string>()
    g.policies.forEach((p, i) => {
      const key = `${p.target.kind}:${p.target.id}`
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['policies', i, 'target'], message: `duplicate policy for ${p.target.kind} "${p.target.id}"` })
      seen.add(key)
    })
  }).prefault({}).describe('Content guards: PII, secrets, prompt injection, a guard model, request limits (docs/guards.md)')
}

type GuardsSchema = ReturnType<typeof createGuardsSchema>
export type GuardsConfig = z.infer<GuardsSchema>
export type GuardModelConfig = NonNullable<GuardsConfig['guard_model']>
export type GuardPolicyConfig = z.infer<typeof policyOverrides>
