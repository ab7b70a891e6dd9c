import type { DatabaseSync } from 'node:sqlite'
import type { PolicyStore, PriceStore, UsageStore } from '../store.ts'
import {
  policyColumns, policyToRow, priceColumns, priceToRow, replaceAssignments, rowToPolicy, rowToPrice, rowToUsage, usageCells,
  usageColumns, usageCounters, usageQuerySql
} from '../limits-rows.ts'
import { inTransaction } from './transaction.ts'

const marks = (columns: string): string => columns.split(',').map(() => '?').join(', ')

/** The PolicyStore on node:sqlite. */
export function createSqlitePolicyStore (db: DatabaseSync): PolicyStore {
  const upsert = db.prepare(`INSERT INTO policies (${policyColumns}) VALUES (${marks(policyColumns)}) ` +
    `ON CONFLICT (id) DO UPDATE SET ${replaceAssignments(policyColumns, 'id')}`)
  const selectOne = db.prepare(`SELECT ${policyColumns} FROM policies WHERE id = ?`)
  const selectAll = db.prepare(`SELECT ${policyColumns} FROM policies ORDER BY created_at, id`)
  const remove = db.prepare('DELETE FROM policies WHERE id = ?')
  return {
    async put (record) {
      upsert.run(...policyToRow(record))
    },
    async get (id) {
      const row = selectOne.get(id)
      return row === undefined ? null : rowToPolicy(row)
    },
    async listAll () {
      return selectAll.all().map(rowToPolicy)
    },
    async delete (id) {
      return Number(remove.run(id).changes) > 0
    }
  }
}

/** The PriceStore on node:sqlite. */
export function createSqlitePriceStore (db: DatabaseSync): PriceStore {
  const upsert = db.prepare(`INSERT INTO prices (${priceColumns}) VALUES (${marks(priceColumns)}) ` +
    `ON CONFLICT (model) DO UPDATE SET ${replaceAssignments(priceColumns, 'model')}`)
  const selectAll = db.prepare(`SELECT ${priceColumns} FROM prices ORDER BY model`)
  const remove = db.prepare('DELETE FROM prices WHERE model = ?')
  return {
    async put (record) {
      upsert.run(...priceToRow(record))
    },
    async listAll () {
      return selectAll.all().map(rowToPrice)
    },
    async delete (model) {
      return Number(remove.run(model).changes) > 0
    }
  }
}

/** The UsageStore on node:sqlite. */
export function createSqliteUsageStore (db: DatabaseSync): UsageStore {
  const increment = db.prepare(`INSERT INTO usage_hourly (${usageColumns}) VALUES (${marks(usageColumns)}) ` +
    'ON CONFLICT (hour, key_id, client_id, tenant, model) DO UPDATE SET ' +
    usageCounters.map((c) => `${c} = ${c} + excluded.${c}`).join(', '))
  return {
    async add (batch) {
      const cells = usageCells(batch)
      if (cells.length === 0) return
      // One transaction: a batch is counted whole or not at all (and one fsync instead of many).
      inTransaction(db, () => {
        for (const cell of cells) increment.run(...cell)
      }, 'IMMEDIATE')
    },
    async query (query) {
      const { sql, params } = usageQuerySql('usage_hourly', query, () => '?')
      return db.prepare(sql).all(...params).map(rowToUsage)
    }
  }
}
