import type { Pool } from 'pg'
import type { PolicyStore, PriceStore, UsageStore } from '../store.ts'
import {
  policyColumns, policyToRow, priceColumns, priceToRow, replaceAssignments, rowToPolicy, rowToPrice, rowToUsage, usageCells,
  usageColumns, usageCounters, usageQuerySql
} from '../limits-rows.ts'
import { schemaIdentifier } from './schema-identifier.ts'

type Row = Record<string, unknown>
const placeholders = (columns: string): string => columns.split(',').map((_, i) => `$${i + 1}`).join(', ')

/** The PolicyStore on a pg pool, in `schema`. Same semantics as the SQLite adapter. */
export function createPostgresPolicyStore (pool: Pool, schema: string): PolicyStore {
  const table = `${schemaIdentifier(schema)}.policies`
  return {
    async put (record) {
      await pool.query(`INSERT INTO ${table} (${policyColumns}) VALUES (${placeholders(policyColumns)}) ` +
        `ON CONFLICT (id) DO UPDATE SET ${replaceAssignments(policyColumns, 'id')}`, policyToRow(record))
    },
    async get (id) {
      const { rows } = await pool.query<Row>(`SELECT ${policyColumns} FROM ${table} WHERE id = $1`, [id])
      return rows[0] === undefined ? null : rowToPolicy(rows[0])
    },
    async listAll () {
      const { rows } = await pool.query<Row>(`SELECT ${policyColumns} FROM ${table} ORDER BY created_at, id`)
      return rows.map(rowToPolicy)
    },
    async delete (id) {
      return ((await pool.query(`DELETE FROM ${table} WHERE id = $1`, [id])).rowCount ?? 0) > 0
    }
  }
}

/** The PriceStore on a pg pool, in `schema`. */
export function createPostgresPriceStore (pool: Pool, schema: string): PriceStore {
  const table = `${schemaIdentifier(schema)}.prices`
  return {
    async put (record) {
      await pool.query(`INSERT INTO ${table} (${priceColumns}) VALUES (${placeholders(priceColumns)}) ` +
        `ON CONFLICT (model) DO UPDATE SET ${replaceAssignments(priceColumns, 'model')}`, priceToRow(record))
    },
    async listAll () {
      const { rows } = await pool.query<Row>(`SELECT ${priceColumns} FROM ${table} ORDER BY model`)
      return rows.map(rowToPrice)
    },
    async delete (model) {
      return ((await pool.query(`DELETE FROM ${table} WHERE model = $1`, [model])).rowCount ?? 0) > 0
    }
  }
}

const columnTypes = ['bigint', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint']

/**
 * The UsageStore on a pg pool, in `schema`. A batch is one statement (so one transaction) over
 * `unnest` of one array per column, whatever its size. INSERT … ON CONFLICT DO UPDATE is
 * atomic per row under concurrency: when two instances add to the same new cell at once, one
 * inserts and the other waits for it and increments, so no increment is lost. usageCells has
 * already folded repeats (one statement may not update a row twice) and sorted the cells (a
 * common lock order, so two overlapping batches cannot deadlock).
 */
export function createPostgresUsageStore (pool: Pool, schema: string): UsageStore {
  const table = `${schemaIdentifier(schema)}.usage_hourly`
  const arrays = columnTypes.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
  const increment = `INSERT INTO ${table} AS u (${usageColumns}) SELECT * FROM unnest(${arrays}) ` +
    'ON CONFLICT (hour, key_id, client_id, tenant, model) DO UPDATE SET ' +
    usageCounters.map((c) => `${c} = u.${c} + excluded.${c}`).join(', ')
  return {
    async add (batch) {
      const cells = usageCells(batch)
      if (cells.length === 0) return
      await pool.query(increment, columnTypes.map((_, i) => cells.map((cell) => cell[i])))
    },
    async query (query) {
      const { sql, params } = usageQuerySql(table, query, (n) => `$${n}`)
      const { rows } = await pool.query<Row>(sql, params)
      return rows.map(rowToUsage)
    }
  }
}
