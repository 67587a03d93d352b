/**
 * Logs on PostgreSQL (`POST /api/logs/`, `POST /api/logs/filter`, retention).
 *
 * `append` is one statement: every line of the request in one multi-row INSERT whose rows travel
 * as one JSON parameter (`json_to_recordset`, as rows.ts's writes): one round trip and one
 * commit per request, atomic and durable without BEGIN and COMMIT around it. Ids are new UUIDv7s
 * (ids.ts: the primary key grows at its right edge); `created` is the database clock, as for
 * artifacts, so that instances on different machines agree.
 *
 * Reads compile the filter into SQL (log-filters.ts) ordered by (timestamp, id), which the
 * indexes serve (schema-logs-events.ts). Retention deletes the oldest lines in bounded batches;
 * rows another instance's retention is deleting at that moment are skipped, not waited for.
 */
import type { LogRepository, Page } from '../contract.ts';
import { newId } from '../ids.ts';
import type { LogRecord, NewLog } from '../log-records.ts';
import type { LogFilter, LogSort } from '../../schemas/logs.ts';
import { run, type Db, type Tx } from './db.ts';
import { logCondition, logOrderBy } from './log-filters.ts';
import { Params } from './params.ts';
import { pageSql } from './run-filters.ts';
import { fromPgText, toPgText } from './text.ts';

/** The database clock in µs, once per statement. */
const NOW_US = `(extract(epoch FROM clock_timestamp()) * 1000000)::bigint`;

/** Every line of a request, $1 a JSON array of `{i, n, l, m, t, f, r}` (short keys: the payload is the hot path). */
const INSERT_LOGS = `
INSERT INTO log (id, created, name, level, message, timestamp, flow_run_id, task_run_id)
SELECT x.i, now.t, x.n, x.l, x.m, x.t, x.f, x.r
FROM (SELECT ${NOW_US} AS t) AS now,
     json_to_recordset($1::text::json) AS x(i text, n text, l float8, m text, t bigint, f text, r text)`;

/** Imported lines (transfer): each with its own `created` (`c`). */
const INSERT_IMPORTED_LOGS = `
INSERT INTO log (id, created, name, level, message, timestamp, flow_run_id, task_run_id)
SELECT x.i, x.c, x.n, x.l, x.m, x.t, x.f, x.r
FROM json_to_recordset($1::text::json) AS x(i text, c bigint, n text, l float8, m text, t bigint, f text, r text)`;

/** The columns a LogRecord is read from. */
export const LOG_COLUMNS = 'id, created, name, level, message, timestamp, flow_run_id, task_run_id';

export interface LogRow {
  id: string;
  created: string | number;
  name: string;
  level: number;
  message: string;
  timestamp: string | number;
  flow_run_id: string | null;
  task_run_id: string | null;
}

export const logFromRow = (row: LogRow): LogRecord => ({
  id: row.id,
  created: Number(row.created),
  name: fromPgText(row.name),
  level: Number(row.level),
  message: fromPgText(row.message),
  timestamp: Number(row.timestamp),
  flow_run_id: row.flow_run_id,
  task_run_id: row.task_run_id,
});

/** The JSON parameter of INSERT_LOGS (INSERT_IMPORTED_LOGS with `created`) for `logs`, each under its id. */
export function logsPayload(logs: readonly (NewLog & { id: string; created?: number })[]): string {
  return JSON.stringify(
    logs.map((l) => ({ i: l.id, c: l.created, n: toPgText(l.name), l: l.level, m: toPgText(l.message), t: l.timestamp, f: l.flow_run_id, r: l.task_run_id })),
  );
}

/** Writes whole records, ids and `created` as they are (an import). */
export async function insertImportedLogs(tx: Tx, logs: readonly LogRecord[]): Promise<void> {
  if (logs.length > 0) await run(tx, INSERT_IMPORTED_LOGS, [logsPayload(logs)]);
}

export class PostgresLogs implements LogRepository {
  constructor(private readonly db: Db) {}

  async append(logs: readonly NewLog[]): Promise<number> {
    if (logs.length === 0) return 0;
    await this.db.unsafe(INSERT_LOGS, [logsPayload(logs.map((l) => ({ ...l, id: newId() })))]);
    return logs.length;
  }

  async find(filter: LogFilter | null, sort: LogSort, page: Page): Promise<LogRecord[]> {
    const p = new Params();
    const where = logCondition(filter, p);
    if (where === 'FALSE') return [];
    const rows = await this.db.unsafe<LogRow>(`SELECT ${LOG_COLUMNS} FROM log WHERE ${where} ORDER BY ${logOrderBy(sort)} ${pageSql(p, page)}`, p.values);
    return rows.map(logFromRow);
  }

  async deleteBefore(cutoff: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const rows = await this.db.unsafe<{ n: string }>(
      `WITH doomed AS (
         SELECT id FROM log WHERE timestamp < $1::bigint ORDER BY timestamp, id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM log l USING doomed d WHERE l.id = d.id RETURNING 1
       )
       SELECT count(*)::text AS n FROM gone`,
      [String(cutoff), limit],
    );
    return Number(rows[0].n);
  }
}
