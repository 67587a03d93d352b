/**
 * `LogFilter` compiled into a SQL condition on a `log` row, and the two log sorts into ORDER BY —
 * the meaning `compileLogFilter` (src/filters/logs.ts) gives them: `level` and `timestamp` bounds
 * inclusive, `flow_run_id.any_` and `task_run_id.any_` membership (an empty list matches nothing,
 * a NULL id never matches), `task_run_id.is_null_`; a sub-object's parts AND-ed, the filter's
 * parts joined by its `operator`. Every value is a parameter (params.ts).
 */
import type { LogFilter, LogSort } from '../../schemas/logs.ts';
import { parseDateTime } from '../../validation/datetime.ts';
import type { Params } from './params.ts';
import { combineSql } from './run-filters.ts';

const FALSE = 'FALSE';

/** `column` is one of `values` (none: FALSE; one: `=`, so a run's lines are read in index order, not sorted). */
function anyOf(p: Params, column: string, values: readonly string[]): string {
  if (values.length === 0) return FALSE;
  if (values.length === 1) return `${column} = ${p.add(values[0])}::text`;
  return `${column} = ANY(${p.add([...values])}::text[])`;
}

/** The condition a `log` row (unqualified columns) must meet: `TRUE`, `FALSE` or SQL. */
export function logCondition(filter: LogFilter | null | undefined, p: Params): string {
  if (filter == null) return 'TRUE';
  const parts: string[] = [];
  const { level, timestamp, flow_run_id, task_run_id } = filter;
  if (level != null) {
    const bounds: string[] = [];
    if (level.ge_ != null) bounds.push(`level >= ${p.add(level.ge_)}::float8`);
    if (level.le_ != null) bounds.push(`level <= ${p.add(level.le_)}::float8`);
    parts.push(combineSql(bounds));
  }
  if (timestamp != null) {
    // `timestamp` is NOT NULL: no bound is TRUE.
    const bounds: string[] = [];
    if (timestamp.before_ != null) bounds.push(`timestamp <= ${p.add(String(parseDateTime(timestamp.before_)))}::bigint`);
    if (timestamp.after_ != null) bounds.push(`timestamp >= ${p.add(String(parseDateTime(timestamp.after_)))}::bigint`);
    parts.push(combineSql(bounds));
  }
  if (flow_run_id?.any_ != null) parts.push(anyOf(p, 'flow_run_id', flow_run_id.any_));
  if (task_run_id != null) {
    const sub: string[] = [];
    if (task_run_id.any_ != null) sub.push(anyOf(p, 'task_run_id', task_run_id.any_));
    if (task_run_id.is_null_ != null) sub.push(`task_run_id IS ${task_run_id.is_null_ ? '' : 'NOT '}NULL`);
    parts.push(combineSql(sub));
  }
  return combineSql(parts, filter.operator ?? 'and_');
}

/** The sort's ORDER BY: by timestamp, ties by id, both in the sort's direction (one index, read either way). */
export function logOrderBy(sort: LogSort): string {
  switch (sort) {
    case 'TIMESTAMP_ASC':
      return 'timestamp ASC, id ASC';
    case 'TIMESTAMP_DESC':
      return 'timestamp DESC, id DESC';
  }
  throw new Error(`unknown log sort ${String(sort)}`);
}
