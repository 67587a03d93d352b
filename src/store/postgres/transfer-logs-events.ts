/**
 * Logs and events in export and import (transfer.ts), as LMDB's transfer treats them: a `log`
 * line is the Log JSON `POST /logs/filter` answers (`logJson`), an `event` line the stored
 * ReceivedEvent JSON; both in id order. An imported line whose id is stored already is
 * 'unchanged' when its JSON equals the stored one and 'kept' otherwise (the stored one stays); a
 * new one goes in with its own id and times, the segment's new lines in one statement.
 */
import type { Numbered, Outcome } from '../contract.ts';
import type { EventRecord } from '../event-records.ts';
import { logJson, type LogRecord } from '../log-records.ts';
import { run, type Tx } from './db.ts';
import { insertEvents } from './events.ts';
import { insertImportedLogs, LOG_COLUMNS, logFromRow, type LogRow } from './logs.ts';

type Row = Record<string, unknown>;

/** The export's readers of the two tables (transfer.ts SOURCES). */
export const LOG_SOURCE = { kind: 'log', table: 'log', columns: LOG_COLUMNS, order: 'id', render: (row: Row) => logJson(logFromRow(row as unknown as LogRow)) } as const;
export const EVENT_SOURCE = { kind: 'event', table: 'event', columns: 'id, json', order: 'id', render: (row: Row) => row.json as string } as const;

/**
 * The outcomes of `records` (by their JSON, `json`) against the stored ones (`stored`: id → JSON)
 * and the earlier lines of the segment; the records to add.
 */
function decide<T extends { id: string }>(records: T[], stored: Map<string, string>, json: (r: T) => string): { outcomes: Outcome[]; added: T[] } {
  const known = new Map<string, string | T>(stored);
  const added: T[] = [];
  const outcomes = records.map((r): Outcome => {
    const have = known.get(r.id);
    if (have === undefined) {
      known.set(r.id, r);
      added.push(r);
      return 'added';
    }
    return (typeof have === 'string' ? have : json(have)) === json(r) ? 'unchanged' : 'kept';
  });
  return { outcomes, added };
}

const ids = (records: { id: string }[]) => [...new Set(records.map((r) => r.id))];

export async function importLogs(tx: Tx, segment: Numbered[]): Promise<Outcome[]> {
  const records = segment.map(({ item }) => item.record as LogRecord);
  const rows = await run<LogRow>(tx, `SELECT ${LOG_COLUMNS} FROM log WHERE id = ANY($1::text[])`, [ids(records)]);
  const stored = new Map(rows.map((row) => [row.id, logJson(logFromRow(row))]));
  const { outcomes, added } = decide(records, stored, logJson);
  await insertImportedLogs(tx, added);
  return outcomes;
}

export async function importEvents(tx: Tx, segment: Numbered[]): Promise<Outcome[]> {
  const records = segment.map(({ item }) => item.record as EventRecord);
  const rows = await run<{ id: string; json: string }>(tx, 'SELECT id, json FROM event WHERE id = ANY($1::text[])', [ids(records)]);
  const { outcomes, added } = decide(records, new Map(rows.map((row) => [row.id, row.json])), (e) => e.json);
  await insertEvents(tx, added);
  return outcomes;
}
