import type { GuardAction, GuardPolicyConfig, GuardsConfig } from '../config/guards-schema.ts'
import type { Principal } from '../pipeline/context.ts'
import type { MatcherGroup } from './scan-text.ts'
import { createInjectionDetector, type InjectionDetector, type InjectionSignal } from './injection-detector.ts'
import { piiMatcherGroup } from './pii-detector.ts'
import { secretMatcherGroup } from './secret-detector.ts'

export type { GuardAction } from '../config/guards-schema.ts'

/** The action of one detector in one direction, resolved per finding type. */
export interface DetectorRule {
  /** Action for a finding `type` ('email', 'secret.openai'). */
  actionFor (type: string): GuardAction
  /** False when every type is `off`: the detector need not run. */
  readonly active: boolean
  /** Values redacted on input come back in the response (input rules only). */
  readonly restore: boolean
}

export interface RequestLimits {
  readonly maxMessages: number | null
  readonly maxMessageChars: number | null
  readonly maxTokens: number | null
  readonly allowedRoles: ReadonlySet<string> | null
  readonly allowedTools: ReadonlySet<string> | null
}

/** Everything the guard stages need for one caller, compiled once. */
export interface GuardPolicy {
  readonly input: {
    readonly pii: DetectorRule
    readonly secret: DetectorRule
    /** Null when the action is `off`. */
    readonly injection: { readonly action: 'block' | 'flag', readonly detector: InjectionDetector } | null
    readonly guardModel: 'block' | 'flag' | 'off'
    /** Matcher groups for one normalised scan of PII and secrets (only the active ones). */
    readonly groups: readonly MatcherGroup[]
  }
  readonly output: {
    readonly pii: DetectorRule
    readonly secret: DetectorRule
    readonly groups: readonly MatcherGroup[]
  }
  readonly limits: RequestLimits
  /** Record a masked sample of prompt and completion, cut to `maxChars`; null = never. */
  readonly sample: { readonly maxChars: number } | null
}

/** Resolves the policy of a caller: global ← tenant ← client ← key, field by field. */
export interface GuardPolicies {
  resolve (principal: Principal | null): GuardPolicy
}

type Layer = Omit<GuardPolicyConfig, 'target'>
interface DetectorLayer { action?: GuardAction | undefined, types?: Partial<Record<string, GuardAction>> | undefined, restore?: boolean | undefined }

const pii = piiMatcherGroup()
const secret = secretMatcherGroup()

/**
 * Compiles `guards` once: the global defaults and every policy, merged lazily per combination
 * of (tenant policy, key or client policy) and cached, so a request only does two map lookups.
 * Injection detectors are built once per distinct threshold. Throws on an invalid weight.
 */
export function compileGuardPolicies (config: GuardsConfig): GuardPolicies {
  const weights = config.injection_weights as Partial<Record<InjectionSignal, number>>
  const detectors = new Map<number, InjectionDetector>()
  const injectionDetector = (threshold: number): InjectionDetector => {
    let detector = detectors.get(threshold)
    if (detector === undefined) {
      detector = createInjectionDetector({ threshold, weights })
      detectors.set(threshold, detector)
    }
    return detector
  }
  injectionDetector(config.input.injection.threshold)
  const targets = new Map<string, { index: number, layer: Layer }>()
  config.policies.forEach((p, index) => {
    const { target, ...layer } = p
    targets.set(`${target.kind}:${target.id}`, { index, layer })
  })
  const cache = new Map<string, GuardPolicy>()
  const base: Layer = { input: { ...config.input, guard_model: config.guard_model?.action ?? 'off' }, output: config.output, request_limits: config.request_limits, record_sample: config.record_sample }
  const modelConfigured = config.guard_model !== undefined
  // Every policy is compiled once at start-up, so a bad one fails the start, not a request.
  for (const { layer } of targets.values()) compile([base, layer], injectionDetector, modelConfigured)

  return {
    resolve (principal) {
      const tenant = principal?.tenant == null ? undefined : targets.get('tenant:' + principal.tenant)
      const own = (principal?.keyId == null ? undefined : targets.get('key:' + principal.keyId)) ??
        (principal?.clientId == null ? undefined : targets.get('client:' + principal.clientId))
      const key = `${tenant?.index ?? -1}|${own?.index ?? -1}`
      let policy = cache.get(key)
      if (policy === undefined) {
        const layers = [base]
        if (tenant !== undefined) layers.push(tenant.layer)
        if (own !== undefined) layers.push(own.layer)
        policy = compile(layers, injectionDetector, modelConfigured)
        cache.set(key, policy)
      }
      return policy
    }
  }
}

function compile (layers: readonly Layer[], injectionDetector: (t: number) => InjectionDetector, modelConfigured: boolean): GuardPolicy {
  const pick = <T>(get: (l: Layer) => T | undefined): T | undefined => {
    let value: T | undefined
    for (const layer of layers) {
      const v = get(layer)
      if (v !== undefined) value = v
    }
    return value
  }
  const inPii = rule(layers.map((l) => l.input?.pii), '')
  const inSecret = rule(layers.map((l) => l.input?.secrets), 'secret.')
  const outPii = rule(layers.map((l) => l.output?.pii), '')
  const outSecret = rule(layers.map((l) => l.output?.secrets), 'secret.')
  const injectionAction = pick((l) => l.input?.injection?.action) ?? 'off'
  const threshold = pick((l) => l.input?.injection?.threshold) ?? 0.5
  const limit = <K extends keyof NonNullable<Layer['request_limits']>>(k: K): NonNullable<Layer['request_limits']>[K] | null =>
    pick((l) => l.request_limits?.[k]) ?? null
  const roles = limit('allowed_roles')
  const tools = limit('allowed_tools')
  const sample = pick((l) => l.record_sample)
  return Object.freeze({
    input: {
      pii: inPii,
      secret: inSecret,
      injection: injectionAction === 'off' ? null : { action: injectionAction, detector: injectionDetector(threshold) },
      guardModel: modelConfigured ? pick((l) => l.input?.guard_model) ?? 'off' : 'off',
      groups: groupsFor(inPii, inSecret)
    },
    output: { pii: outPii, secret: outSecret, groups: groupsFor(outPii, outSecret) },
    limits: {
      maxMessages: limit('max_messages') ?? null,
      maxMessageChars: limit('max_message_chars') ?? null,
      maxTokens: limit('max_tokens') ?? null,
      allowedRoles: roles == null ? null : new Set(roles),
      allowedTools: tools == null ? null : new Set(tools)
    },
    sample: sample == null ? null : { maxChars: sample.max_chars }
  })
}

/** Merges one detector's layers: the last `action` and `restore` win, `types` merge key by key. */
function rule (layers: ReadonlyArray<DetectorLayer | undefined>, prefix: string): DetectorRule {
  let action: GuardAction = 'off'
  let restore = false
  const types = new Map<string, GuardAction>()
  for (const layer of layers) {
    if (layer === undefined) continue
    if (layer.action !== undefined) action = layer.action
    if (layer.restore !== undefined) restore = layer.restore
    for (const [type, a] of Object.entries(layer.types ?? {})) if (a !== undefined) types.set(prefix + type, a)
  }
  const active = action !== 'off' || [...types.values()].some((a) => a !== 'off')
  const fallback = action
  return { actionFor: (type) => types.get(type) ?? fallback, active, restore }
}

function groupsFor (piiRule: DetectorRule, secretRule: DetectorRule): MatcherGroup[] {
  const groups: MatcherGroup[] = []
  if (piiRule.active) groups.push(pii)
  if (secretRule.active) groups.push(secret)
  return groups
}
