/** `owned_by` of every model the mock serves: the label that tells a demo answer from a real one. */
export const MOCK_OWNER = 'portcullis-mock'

/** The models the built-in mock lists; any `mock-*` name is answered. */
export const MOCK_MODEL_NAMES: readonly string[] = Object.freeze(['mock-gpt', 'mock-embedding'])

/** A fixed `created` (2025-01-01T00:00:00Z) keeps model lists byte-for-byte reproducible. */
export const MOCK_MODEL_CREATED = 1_735_689_600

/** One entry of an OpenAI `GET /v1/models` list. */
export interface ModelEntry {
  readonly id: string
  readonly object: 'model'
  readonly created: number
  readonly owned_by: string
}

export function modelEntry (id: string, ownedBy: string): ModelEntry {
  return { id, object: 'model', created: MOCK_MODEL_CREATED, owned_by: ownedBy }
}

/** The mock upstream's own `GET /v1/models` answer. */
export function mockModelList (): { object: 'list', data: ModelEntry[] } {
  return { object: 'list', data: MOCK_MODEL_NAMES.map((id) => modelEntry(id, MOCK_OWNER)) }
}
