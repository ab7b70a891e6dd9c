/**
 * Shared vocabulary of the content guards (issue 6). Every detector — PII, secrets, prompt
 * injection — reports `Finding`s and can be run through the same redactor, stream scanner and
 * (later) the guard stage, which only needs these two types.
 *
 * Contract for detector authors (G2: the injection detector uses `detector: 'injection'`,
 * `type: 'injection'` or a more specific `'injection.<rule>'`, and `score` in 0..1):
 * - `start`/`end` are UTF-16 offsets into the ORIGINAL text the caller passed in (half-open,
 *   `text.slice(start, end)` is the matched value), never into a normalised copy: map back with
 *   the offset map from `normalize()` (see normalize.ts) before returning a finding.
 * - Findings are returned sorted by `start`; overlaps are allowed (the redactor resolves them).
 * - `type` is a stable lowercase identifier that may appear in audit records and metrics labels,
 *   so it never contains the matched value.
 */

export type DetectorKind = 'pii' | 'secret' | 'injection'

export interface Finding {
  /**
   * What was found: 'email', 'phone', 'payment_card', 'iban', 'us_ssn', 'cn_resident_id',
   * 'ipv4', 'ipv6', 'date_of_birth', 'secret.openai', 'secret.aws_access_key', …, 'injection'.
   */
  readonly type: string
  readonly detector: DetectorKind
  /** Offset of the first UTF-16 code unit in the original text. */
  readonly start: number
  /** Offset one past the last code unit in the original text. */
  readonly end: number
  /** Confidence in 0..1 where the detector has one (injection); absent means "validated match". */
  readonly score?: number
}

/**
 * A detector the stream scanner and the guard stage can run without knowing what it looks for.
 * The two lengths tell the stream scanner how much text to hold back so that a value split
 * across chunks is still seen whole (see stream-scanner.ts):
 * - `window`: every finding, together with the context that decides it (a keyword before a date,
 *   a boundary character after a number), lies within this many characters;
 * - `maxTokenLength`: except findings that are one unbroken run of non-space characters (API keys,
 *   JWTs, encoded blobs), which may be up to this long. Defaults to `window`.
 */
export interface Detector {
  /** Short stable name ('pii', 'secret', 'injection'), for logs and the bench. */
  readonly name: string
  readonly window: number
  readonly maxTokenLength?: number
  /** Findings in `text`, sorted by start, offsets into `text` itself. */
  detect (text: string): Finding[]
}
