import type { CliIo } from './command.ts'
import type { AuditRecord } from '../audit/audit-chain.ts'
import { canonicalJson } from '../audit/canonical-json.ts'
import { formatTable } from './format-table.ts'

/**
 * A table cell. Models, user agents and metadata come from clients: control characters (an ANSI
 * escape could repaint the terminal or hide a line) are shown escaped, as in the stored JSON.
 */
function cell (value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** One line per record for people; `--json` prints the records themselves. */
function recordRow (r: AuditRecord): string[] {
  const who = r.api_key_id ?? r.client_id ?? r.actor
  const what = r.type === 'request' || r.type === undefined ? `${cell(r.endpoint)} ${cell(r.model)}` : cell(r.action)
  const outcome = r.error ?? r.outcome
  return [String(r.seq), cell(r.timestamp_utc), cell(r.type), cell(r.tenant), cell(who), what, cell(r.status), cell(typeof outcome === 'object' ? JSON.stringify(outcome) : outcome), cell(r.ip)]
}

const headers = ['SEQ', 'TIME', 'TYPE', 'TENANT', 'WHO', 'WHAT', 'STATUS', 'ERROR/OUTCOME', 'IP']

/** Records as a table (without the header row for `tail --follow`), or with `json` one stored line each. */
export function printRecords (io: CliIo, records: readonly AuditRecord[], json: boolean, withHeader: boolean): void {
  if (json) {
    for (const r of records) io.out(canonicalJson(r))
    return
  }
  const lines = formatTable(headers, records.map(recordRow))
  for (const line of withHeader ? lines : lines.slice(1)) io.out(line)
}
