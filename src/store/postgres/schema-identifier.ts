/** The default schema: a dedicated one, so generic table names never meet another application's. */
export const defaultSchema = 'portcullis'

const schemaName = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * The schema as a quoted SQL identifier. Identifiers cannot be bound parameters, so the name is
 * held to lower-case letters, digits and `_` (at most 63 bytes, PostgreSQL's NAMEDATALEN - 1) and
 * is then safe to splice into SQL.
 */
export function schemaIdentifier (name: string): string {
  if (!schemaName.test(name)) {
    throw new Error(`PostgreSQL schema ${JSON.stringify(name)}: use 1 to 63 lower-case letters, digits or _, not starting with a digit`)
  }
  return `"${name}"`
}
