/**
 * Scans JSON text that JSON.parse already accepted and returns the first member name that
 * repeats within one object, or null. Linear in the input; only strings and the structural
 * characters matter because the syntax is already known to be valid.
 */
export function findDuplicateKey (text: string): string | null {
  // One entry per open container: a Set of names for objects, null for arrays.
  const stack: Array<Set<string> | null> = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i)
      if (expectKey) {
        const raw = text.slice(i + 1, end)
        const name = raw.includes('\\') ? JSON.parse(text.slice(i, end + 1)) as string : raw
        const names = stack[stack.length - 1] as Set<string>
        if (names.has(name)) return name
        names.add(name)
        expectKey = false
      }
      i = end
    } else if (c === 0x7b /* { */) {
      stack.push(new Set())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      stack.push(null)
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set
    }
  }
  return null
}

/** Index of the closing quote of the string that opens at `start`. */
function stringEnd (text: string, start: number): number {
  let i = start + 1
  for (;;) {
    const q = text.indexOf('"', i)
    let backslashes = 0
    for (let j = q - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++
    if (backslashes % 2 === 0) return q
    i = q + 1
  }
}
