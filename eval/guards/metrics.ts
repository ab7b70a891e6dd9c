/** Confusion counts and the figures derived from them. */
export interface Counts {
  tp: number
  fp: number
  fn: number
  /** Items with no positive label (for the benign false-positive rate). */
  benign: number
  /** Benign items on which the detector reported anything. */
  benignFlagged: number
}

export interface Scores {
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Share of benign items flagged. */
  readonly fpr: number
}

export function emptyCounts (): Counts {
  return { tp: 0, fp: 0, fn: 0, benign: 0, benignFlagged: 0 }
}

export function scores (c: Counts): Scores {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp)
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn)
  const f1 = precision + recall === 0 ? 0 : 2 * precision * recall / (precision + recall)
  const fpr = c.benign === 0 ? 0 : c.benignFlagged / c.benign
  return { precision, recall, f1, fpr }
}

/**
 * Adds one item: `expected` and `predicted` are sets of labels (a type, or `'injection'`).
 * Each label is a true positive, a false positive or a false negative; the item is benign when
 * nothing is expected.
 */
export function addItem (c: Counts, expected: ReadonlySet<string>, predicted: ReadonlySet<string>): void {
  for (const label of predicted) {
    if (expected.has(label)) c.tp++
    else c.fp++
  }
  for (const label of expected) if (!predicted.has(label)) c.fn++
  if (expected.size === 0) {
    c.benign++
    if (predicted.size > 0) c.benignFlagged++
  }
}
