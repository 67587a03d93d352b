/**
 * Log lines (`POST /logs/`, `POST /logs/filter`, retention). A line is written once and never
 * edited: a record under its id, an entry in the timestamp index, one in its flow run's and one
 * in its task run's when it has one (query/logs.ts reads them), and the `logs` counter, all in
 * the batch's one transaction. An append reads nothing but the counter, so a batch of 100 lines
 * costs 300 to 400 puts.
 */
import type { Key } from 'lmdb';
import type { LogRepository, Page } from '../contract.ts';
import { newId } from '../ids.ts';
import type { LogRecord, NewLog } from '../log-records.ts';
import type { LogFilter, LogSort } from '../../schemas/logs.ts';
import { nowMicros } from '../../time.ts';
import { durably } from './durable.ts';
import type { StoreDbs } from './env.ts';
import type { UpgradeStep } from './upgrade.ts';
import { findLogs } from './query/logs.ts';
import { slicedQuery } from './query/slices.ts';
import { bump } from './rows.ts';

const EMPTY = Buffer.alloc(0);

export const logTimeKey = (r: Pick<LogRecord, 'timestamp' | 'id'>): Key[] => [r.timestamp, r.id];
export const logRunKey = (r: Pick<LogRecord, 'flow_run_id' | 'timestamp' | 'id'>): Key[] => [r.flow_run_id ?? '', r.timestamp, r.id];
/** A line's entry in `logs.byTaskRun`; none for a flow-level line. */
export const logTaskRunKeys = (r: Pick<LogRecord, 'task_run_id' | 'timestamp' | 'id'>): Key[][] => (r.task_run_id === null ? [] : [[r.task_run_id, r.timestamp, r.id]]);

/** Writes a new line with its index entries (the caller counts it). Inside a write transaction. */
export function putLog(dbs: StoreDbs, log: LogRecord): void {
  dbs.logs.put(log.id, log);
  dbs.logsByTimestamp.put(logTimeKey(log), EMPTY);
  dbs.logsByFlowRun.put(logRunKey(log), EMPTY);
  for (const key of logTaskRunKeys(log)) dbs.logsByTaskRun.put(key, EMPTY);
}

/** An exported line, imported under its own id and `created` (transfer.ts). Inside a write transaction. */
export function putImportedLog(dbs: StoreDbs, log: LogRecord): void {
  putLog(dbs, logRecord(log.id, log.created, log));
  bump(dbs, 'logs', 1);
}

function removeLog(dbs: StoreDbs, log: LogRecord): void {
  dbs.logs.remove(log.id);
  dbs.logsByTimestamp.remove(logTimeKey(log));
  dbs.logsByFlowRun.remove(logRunKey(log));
  for (const key of logTaskRunKeys(log)) dbs.logsByTaskRun.remove(key);
}

/**
 * Layout version 12 adds `logs.byTaskRun`, built from the lines already stored (emptied first, so
 * a rerun over a partial state ends the same): a task run's lines were otherwise a walk over every
 * line — what Prefect's UI asks for on a task run's page.
 */
export const LOG_TASK_RUN_INDEX: UpgradeStep = {
  version: 12,
  adds: 'log lines by task run',
  build(dbs) {
    for (const key of [...dbs.logsByTaskRun.getKeys({})]) dbs.logsByTaskRun.remove(key);
    for (const { value } of dbs.logs.getRange({})) for (const key of logTaskRunKeys(value)) dbs.logsByTaskRun.put(key, EMPTY);
  },
};

/** A stored line: fields in one order, so every record shares one msgpack structure. */
const logRecord = (id: string, created: number, log: NewLog): LogRecord => ({
  id,
  created,
  name: log.name,
  level: log.level,
  message: log.message,
  timestamp: log.timestamp,
  flow_run_id: log.flow_run_id,
  task_run_id: log.task_run_id,
});

export class LogStore implements LogRepository {
  constructor(
    private readonly dbs: StoreDbs,
    /** How long a `find` may run before it stops with QueryDeadlineError. */
    private readonly timeoutMs: number,
  ) {}

  append(logs: readonly NewLog[]): Promise<number> {
    if (logs.length === 0) return Promise.resolve(0);
    // One `created` per batch: the batch is one transaction, as PostgreSQL's now() is.
    const created = nowMicros();
    const records = logs.map((log) => logRecord(newId(), created, log));
    return durably(this.dbs.env, () => {
      for (const record of records) putLog(this.dbs, record);
      bump(this.dbs, 'logs', records.length);
      return records.length;
    });
  }

  find(filter: LogFilter | null, sort: LogSort, page: Page): Promise<LogRecord[]> {
    return slicedQuery(this.dbs.env, this.timeoutMs, (at) => findLogs(this.dbs, filter, sort, page, at));
  }

  deleteBefore(cutoff: number, limit: number): Promise<number> {
    const { dbs } = this;
    return durably(dbs.env, () => {
      const ids = [...dbs.logsByTimestamp.getKeys({ end: [cutoff], limit })].map((key) => (key as [number, string])[1]);
      for (const id of ids) removeLog(dbs, dbs.logs.get(id)!);
      if (ids.length > 0) bump(dbs, 'logs', -ids.length);
      return ids.length;
    });
  }
}
