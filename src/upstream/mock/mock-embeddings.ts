/** Small by default so benchmarks measure the gateway, not float formatting. */
export const DEFAULT_MOCK_DIMENSIONS = 16
export const MAX_MOCK_DIMENSIONS = 4096

/** The inputs of an embeddings request as strings (token arrays are joined), or null when malformed. */
export function embeddingInputs (input: unknown): string[] | null {
  if (typeof input === 'string') return [input]
  if (!Array.isArray(input) || input.length === 0) return null
  if (input.every((v) => typeof v === 'number')) return [input.join(',')]
  const out: string[] = []
  for (const item of input) {
    if (typeof item === 'string') out.push(item)
    else if (Array.isArray(item) && item.every((v) => typeof v === 'number')) out.push(item.join(','))
    else return null
  }
  return out
}

/** FNV-1a: a fixed seed per input text, so the same text always gets the same vector. */
function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** A deterministic unit vector for `text` (mulberry32 stream seeded by the text's hash). */
export function mockVector (text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions)
  let seed = fnv1a(text)
  let norm = 0
  for (let i = 0; i < dimensions; i++) {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t)
    const value = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1
    vector[i] = value
    norm += value * value
  }
  const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm)
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] as number) * scale
  return vector
}

/** OpenAI's `encoding_format: 'base64'` (the official SDK's default): little-endian float32 bytes. */
export function encodeVector (vector: Float32Array, format: unknown): number[] | string {
  if (format === 'base64') return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
  return Array.from(vector)
}
