/** One schema step of a store adapter. Numbered, applied in order, each in its own transaction, never edited once released. */
export interface Migration {
  readonly version: number
  readonly name: string
  /** SQL in the adapter's dialect (PostgreSQL runs it with `search_path` set to the store's schema only). */
  readonly sql: string
}
