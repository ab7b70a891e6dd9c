/** A planted secret: `name` says which one in a failure message, never the value itself. */
export interface Canary {
  readonly name: string
  readonly value: string
  /**
   * A part of the value that is secret on its own (an API key's id is public, its secret part is
   * not; a JWT's header is not secret, its signature is). Found raw, it proves a truncated leak.
   */
  readonly fragment?: string
}

/** Where a canary was found, e.g. `api key (base64)`; the value is never part of it. */
export type CanaryHit = string

/**
 * The base64 (or base64url) text that `value` produces wherever it starts in a longer encoded
 * byte string: base64 packs 3 bytes into 4 characters, so an embedded secret (the client secret
 * in `Basic base64(id:secret)`) shows up in one of three alignments, minus the characters it
 * shares with its neighbours.
 */
function base64Alignments (value: string, encoding: 'base64' | 'base64url'): string[] {
  const bytes = Buffer.from(value, 'utf8')
  const forms: string[] = []
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString(encoding)
    const total = pad + bytes.length
    forms.push(encoded.slice(Math.ceil((8 * pad) / 6), Math.floor((8 * total) / 6)))
  }
  return forms
}

/**
 * The forms a secret plausibly takes in text a program writes: raw, JSON-escaped, URL-encoded,
 * base64/base64url (any alignment), hex, and the byte list `JSON.stringify(buffer)` gives a
 * logged Buffer (`{"type":"Buffer","data":[112,99,…]}`).
 */
export function canaryForms (canary: Canary): Array<{ form: string, text: string }> {
  const { value } = canary
  const bytes = Buffer.from(value, 'utf8')
  const forms = [
    { form: 'raw', text: value },
    { form: 'json-escaped', text: JSON.stringify(value).slice(1, -1) },
    { form: 'url-encoded', text: encodeURIComponent(value) },
    { form: 'hex', text: bytes.toString('hex') },
    { form: 'buffer-json', text: [...bytes].join(',') },
    ...base64Alignments(value, 'base64').map((text) => ({ form: 'base64', text })),
    ...base64Alignments(value, 'base64url').map((text) => ({ form: 'base64url', text }))
  ]
  if (canary.fragment !== undefined) forms.push({ form: 'fragment', text: canary.fragment })
  // A form too short to be distinctive would match by chance; the shortest real one is ~20 chars.
  return forms.filter((f, i) => f.text.length >= 16 && forms.findIndex((g) => g.text === f.text) === i)
}

/**
 * Searches `text` for every form of every canary. Returns one entry per (canary, form) found,
 * naming both, so a failure says what leaked and how it was encoded without printing it.
 */
export function findCanaries (text: string, canaries: readonly Canary[]): CanaryHit[] {
  const hits: CanaryHit[] = []
  for (const canary of canaries) {
    for (const { form, text: needle } of canaryForms(canary)) {
      if (text.includes(needle)) hits.push(`${canary.name} (${form})`)
    }
  }
  return hits
}

/** Names of the canaries found in `text`, in any form. */
export function canariesIn (text: string, canaries: readonly Canary[]): Set<string> {
  return new Set(findCanaries(text, canaries).map((hit) => hit.slice(0, hit.lastIndexOf(' ('))))
}
