/**
 * Multi-row writes: any number of rows in one INSERT, sent as one JSON parameter that
 * `json_to_recordset` reads back into typed columns (no limit on parameters; bytea travels as hex
 * text). The import writes with it (transfer.ts), and so does the benchmark's seed (bench/pg-seed.ts).
 */
import { run, type Tx } from './db.ts';
import { COLUMN_TYPES } from './schema-runs.ts';

/** `json_to_recordset`'s column list and the select list that gives each column its type. */
export function recordset(columns: readonly string[]): { columns: string; select: string } {
  return {
    columns: columns.map((c) => `"${c}" ${COLUMN_TYPES[c] === 'bytea' ? 'text' : (COLUMN_TYPES[c] ?? 'text')}`).join(', '),
    select: columns.map((c) => (COLUMN_TYPES[c] === 'bytea' ? `decode(x."${c}", 'hex') AS "${c}"` : `x."${c}"`)).join(', '),
  };
}

/** Rows (values in `columns` order) as one JSON array of objects; bytes as hex. */
export function payload(columns: readonly string[], rows: unknown[][]): string {
  return JSON.stringify(
    rows.map((row) => {
      const object: Record<string, unknown> = {};
      columns.forEach((c, i) => (object[c] = Buffer.isBuffer(row[i]) ? row[i].toString('hex') : row[i]));
      return object;
    }),
  );
}

/** Inserts `rows` (values in `columns` order) with one statement. */
export async function insertRows(tx: Tx, table: string, columns: readonly string[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const { columns: definition, select } = recordset(columns);
  await run(
    tx,
    `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) SELECT ${select} FROM json_to_recordset($1::text::json) AS x(${definition})`,
    [payload(columns, rows)],
  );
}
