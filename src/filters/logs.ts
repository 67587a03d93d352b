/**
 * `LogFilter` compiled once per request into a predicate over stored log lines (Prefect 3.0.0's
 * meaning: `level` bounds and `timestamp` bounds inclusive, `flow_run_id.any_` and
 * `task_run_id.any_` membership, `task_run_id.is_null_`). The object's operator joins its parts.
 */
import type { LogFilter } from '../schemas/logs.ts';
import type { LogRecord } from '../store/log-records.ts';
import { parseDateTime } from '../validation/datetime.ts';
import { always, anyOf, combine, isNull, on, timeRange, type Predicate } from './leaf.ts';

const time = (text: string | null | undefined) => (text == null ? undefined : parseDateTime(text));

export function compileLogFilter(filter: LogFilter | null | undefined): Predicate<LogRecord> {
  if (filter == null) return always;
  const parts: Predicate<LogRecord>[] = [];
  const { level, timestamp, flow_run_id, task_run_id } = filter;
  if (level != null) {
    const ge = level.ge_ ?? undefined;
    const le = level.le_ ?? undefined;
    parts.push((r) => (ge === undefined || r.level >= ge) && (le === undefined || r.level <= le));
  }
  if (timestamp != null) parts.push(on((r: LogRecord) => r.timestamp, timeRange(time(timestamp.before_), time(timestamp.after_))));
  if (flow_run_id != null && flow_run_id.any_ != null) parts.push(on((r: LogRecord) => r.flow_run_id, anyOf(flow_run_id.any_)));
  if (task_run_id != null) {
    const sub: Predicate<LogRecord>[] = [];
    if (task_run_id.any_ != null) sub.push(on((r: LogRecord) => r.task_run_id, anyOf(task_run_id.any_)));
    if (task_run_id.is_null_ != null) sub.push(on((r: LogRecord) => r.task_run_id, isNull(task_run_id.is_null_)));
    parts.push(combine(sub));
  }
  return combine(parts, filter.operator ?? 'and_');
}
