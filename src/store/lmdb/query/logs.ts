/**
 * `POST /logs/filter` on LMDB: which index a page walks, and the walk.
 *
 * Three indexes order log lines by time: `logs.byTimestamp` ([timestamp, id]) holds every line,
 * `logs.byFlowRun` ([flow_run_id or "", timestamp, id]) each flow run's lines together, and
 * `logs.byTaskRun` ([task_run_id, timestamp, id]) each task run's. When every match must belong to
 * one of the task runs `task_run_id.any_` names, or to one of the flow runs `flow_run_id.any_`
 * names (the filter's parts are joined by `and_`, or that is its only part), the walk reads those
 * runs' ranges merged in time order — the task runs' when both apply (a task run's lines are a
 * part of its flow run's); otherwise it walks the timestamp index. Either is bounded by `timestamp.after_` and
 * `before_` when every match must also lie within them. The compiled filter (`compileLogFilter`)
 * is tested on each line the walk reads, and the walk stops after `offset + limit` matches: "a
 * flow run's last 200 lines" reads 200 index entries and 200 records whether the store holds ten
 * thousand lines or a million. Ties of timestamp go by id (ascending with TIMESTAMP_ASC,
 * descending with TIMESTAMP_DESC: one index order read either way).
 */
import type { LogFilter, LogSort } from '../../../schemas/logs.ts';
import { compileLogFilter } from '../../../filters/logs.ts';
import { never } from '../../../filters/leaf.ts';
import type { Page } from '../../contract.ts';
import type { LogRecord } from '../../log-records.ts';
import { parseDateTime } from '../../../validation/datetime.ts';
import type { StoreDbs } from '../env.ts';
import { mergeSorted } from './merge.ts';
import { ROWS_PER_PAUSE, type At, type Sliced } from './slices.ts';

export interface LogPlan {
  /** The flow runs whose ranges of `logs.byFlowRun` hold every match; null: no such list. */
  runIds: string[] | null;
  /** The task runs whose ranges of `logs.byTaskRun` hold every match (walked before `runIds`); null: no such list. */
  taskRunIds: string[] | null;
  /** Inclusive bounds every match's timestamp lies within (µs); null: unbounded. */
  after: number | null;
  before: number | null;
}

const micros = (text: string | null | undefined) => (text == null ? null : (parseDateTime(text) ?? null));

export function planLogs(filter: LogFilter | null): LogPlan {
  if (filter == null) return { runIds: null, taskRunIds: null, after: null, before: null };
  const { level, timestamp, flow_run_id, task_run_id } = filter;
  const anded = (filter.operator ?? 'and_') === 'and_';
  // Under or_, a part bounds the matches only when compileLogFilter keeps no other part.
  const runIds = flow_run_id?.any_ != null && (anded || (level == null && timestamp == null && task_run_id == null)) ? [...new Set(flow_run_id.any_)] : null;
  const taskRunIds =
    task_run_id?.any_ != null && (anded || (level == null && timestamp == null && flow_run_id == null)) ? [...new Set(task_run_id.any_)] : null;
  const timed = timestamp != null && (anded || (level == null && flow_run_id?.any_ == null && task_run_id == null));
  return { runIds, taskRunIds, after: timed ? micros(timestamp.after_) : null, before: timed ? micros(timestamp.before_) : null };
}

/** A walked index entry: the line's timestamp and id. */
interface Entry {
  timestamp: number;
  id: string;
}

/** The ids a plan's walk visits, in `sort` order. */
function walk(dbs: StoreDbs, plan: LogPlan, descending: boolean, at: At): Iterable<Entry> {
  const low = plan.after ?? -Infinity;
  // Strings sort after numbers in ordered keys: [t, "\uffff"] is past every id at time t.
  const high = plan.before ?? Infinity;
  const range = (prefix: string[]) =>
    descending ? { start: [...prefix, high, '\uffff'], end: [...prefix, low], reverse: true } : { start: [...prefix, low], end: [...prefix, high, '\uffff'] };
  const [index, owners] = plan.taskRunIds !== null ? [dbs.logsByTaskRun, plan.taskRunIds] : [dbs.logsByFlowRun, plan.runIds];
  if (owners === null) {
    return dbs.logsByTimestamp.getKeys({ ...range([]), ...at }).map((key) => {
      const [timestamp, id] = key as [number, string];
      return { timestamp, id };
    });
  }
  const ranges = owners.map((owner) =>
    index.getKeys({ ...range([owner]), ...at }).map((key) => {
      const [, timestamp, id] = key as [string, number, string];
      return { timestamp, id };
    }),
  );
  const ascending = (a: Entry, b: Entry) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
  return mergeSorted(ranges, descending ? (a, b) => ascending(b, a) : ascending);
}

/** A page of matches, pausing every ROWS_PER_PAUSE lines read. */
export function* findLogs(dbs: StoreDbs, filter: LogFilter | null, sort: LogSort, page: Page, at: At): Sliced<LogRecord[]> {
  const matches = compileLogFilter(filter);
  const found: LogRecord[] = [];
  if (matches === never || page.limit <= 0) return found;
  let skip = page.offset;
  let read = 0;
  for (const { id } of walk(dbs, planLogs(filter), sort === 'TIMESTAMP_DESC', at)) {
    if (++read % ROWS_PER_PAUSE === 0) yield;
    const log = dbs.logs.get(id, at);
    if (log === undefined || !matches(log)) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    found.push(log);
    if (found.length === page.limit) break;
  }
  return found;
}
