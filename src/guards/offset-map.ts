/**
 * Maps offsets in a normalised text back to the original text, so a finding made on the
 * normalised copy redacts exactly the characters the caller sent.
 *
 * The map is a list of pieces. A *linear* piece is a run where normalised character k came from
 * original character k (possibly substituted one for one: full-width digit → ASCII digit,
 * newline → space); an *atom* piece is a group of normalised characters that together came from
 * one original span (a collapsed run of whitespace, an NFKC expansion, a composed accent).
 * Removed characters (zero-width, bidi controls) belong to no piece. Text that normalisation left
 * untouched is a single linear piece, so the common case costs O(1) memory and lookups.
 */
export class OffsetMap {
  // Parallel arrays, one entry per piece, sorted by normStart.
  private readonly normStart: number[] = []
  private readonly origStart: number[] = []
  /** -1 for a linear piece; the original end offset for an atom. */
  private readonly atomEnd: number[] = []
  private normLength = 0

  /** Appends `length` characters copied (or substituted one for one) from `origStart`. */
  linear (origStart: number, length: number): void {
    if (length === 0) return
    const last = this.normStart.length - 1
    if (last >= 0 && this.atomEnd[last] === -1 &&
        (this.origStart[last] as number) + this.normLength - (this.normStart[last] as number) === origStart) {
      this.normLength += length
      return
    }
    this.push(origStart, -1, length)
  }

  /** Appends `length` normalised characters that all stand for the original span [start, end). */
  atom (origStart: number, origEnd: number, length: number): void {
    if (length > 0) this.push(origStart, origEnd, length)
  }

  /** Maps the half-open normalised span [start, end) (non-empty) to an original span. */
  toOriginal (start: number, end: number): { start: number, end: number } {
    const first = this.pieceAt(start)
    const last = this.pieceAt(end - 1)
    const fromAtom = this.atomEnd[first] !== -1
    const originalStart = fromAtom
      ? this.origStart[first] as number
      : (this.origStart[first] as number) + start - (this.normStart[first] as number)
    const lastEnd = this.atomEnd[last] as number
    const originalEnd = lastEnd !== -1
      ? lastEnd
      : (this.origStart[last] as number) + end - (this.normStart[last] as number)
    return { start: originalStart, end: originalEnd }
  }

  private push (origStart: number, atomEnd: number, length: number): void {
    this.normStart.push(this.normLength)
    this.origStart.push(origStart)
    this.atomEnd.push(atomEnd)
    this.normLength += length
  }

  /** Binary search: the piece containing normalised offset `index`. */
  private pieceAt (index: number): number {
    let low = 0
    let high = this.normStart.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if ((this.normStart[mid] as number) <= index) low = mid
      else high = mid - 1
    }
    return low
  }
}
