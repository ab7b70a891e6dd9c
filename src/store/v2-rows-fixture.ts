import type { ClientRecord, KeyRecord } from './store.ts'
import { keyColumns, keyToRow, type KeyRowValue } from './key-row.ts'
import { clientColumns, clientToRow } from './oauth-rows.ts'

/** One row as a schema-version-2 database holds it: the columns migration 3 added are absent. */
export interface V2Row {
  readonly table: 'api_keys' | 'oauth_clients'
  readonly columns: readonly string[]
  readonly values: readonly KeyRowValue[]
}

const addedInV3 = {
  api_keys: ['roles', 'allowed_ips'],
  oauth_clients: ['roles', 'models', 'allowed_ips', 'tokens_revoked_before']
}

/**
 * The rows a version-2 store would have written for `key` and `client`, for upgrade tests. Built
 * from today's row mappers minus the new columns, so the fixture cannot drift from the schema.
 */
export function v2Rows (key: KeyRecord, client: ClientRecord): V2Row[] {
  return [
    strip('api_keys', keyColumns, keyToRow(key)),
    strip('oauth_clients', clientColumns, clientToRow(client))
  ]
}

function strip (table: V2Row['table'], columns: string, values: KeyRowValue[]): V2Row {
  const names = columns.split(',').map((c) => c.trim())
  const keep = names.map((name) => !addedInV3[table].includes(name))
  return { table, columns: names.filter((_, i) => keep[i]), values: values.filter((_, i) => keep[i]) }
}
