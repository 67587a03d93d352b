/**
 * `FlowRunFilter` and `TaskRunFilter` compiled into predicates over stored runs
 * (`shared/spec/filters.md` §4–5, §9 for the newer-Prefect fields).
 */
import type { FlowRunFilter, TaskRunFilter } from '../schemas/filters.ts';
import type { FlowRunRecord, TaskRunRecord } from '../store/companion-records.ts';
import { parseDateTime } from '../validation/datetime.ts';
import type { FilterContext } from './context.ts';
import { always, anyOf, combine, isNull, like, noneOf, on, tagsCondition, timeRange, type Predicate } from './leaf.ts';

type Run = FlowRunRecord | TaskRunRecord;
type Bounds = { before_?: string | null; after_?: string | null; is_null_?: boolean | null };
type NameFilter = { any_?: string[] | null; like_?: string | null };
type StateFilter = {
  operator?: 'and_' | 'or_' | null;
  type?: { any_?: string[] | null; not_any_?: string[] | null } | null;
  name?: { any_?: string[] | null; not_any_?: string[] | null } | null;
};

const time = (s: string | null | undefined) => (s == null ? undefined : parseDateTime(s));

export function boundsCondition<T>(f: Bounds, column: (row: T) => number | null): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.before_ != null || f.after_ != null) parts.push(on(column, timeRange(time(f.before_), time(f.after_))));
  if (f.is_null_ != null) parts.push(on(column, isNull(f.is_null_)));
  return combine(parts);
}

export function nameCondition<T>(f: NameFilter, column: (row: T) => string | null): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.any_ != null) parts.push(on(column, anyOf(f.any_)));
  if (f.like_ != null) parts.push(on(column, like(f.like_)));
  return combine(parts);
}

/**
 * The state filter's operator joins its leaf conditions flattened across `type` and `name`, so
 * an empty `type: {}` contributes nothing (not TRUE) — Prefect's rule.
 */
function stateCondition<T extends Run>(f: StateFilter): Predicate<T> {
  const leaves: Predicate<T>[] = [];
  if (f.type?.any_ != null) leaves.push(on((r: T) => r.state_type, anyOf(f.type.any_)));
  if (f.type?.not_any_ != null) leaves.push(on((r: T) => r.state_type, noneOf(f.type.not_any_)));
  if (f.name?.any_ != null) leaves.push(on((r: T) => r.state_name, anyOf(f.name.any_)));
  if (f.name?.not_any_ != null) leaves.push(on((r: T) => r.state_name, noneOf(f.name.not_any_)));
  return combine(leaves, f.operator ?? 'and_');
}

export function compileFlowRunFilter(f: FlowRunFilter | null | undefined, ctx: FilterContext): Predicate<FlowRunRecord> {
  if (f == null) return always;
  type R = FlowRunRecord;
  const parts: Predicate<R>[] = [];
  if (f.id != null) {
    const leaves: Predicate<R>[] = [];
    if (f.id.any_ != null) leaves.push(on((r: R) => r.id, anyOf(f.id.any_)));
    if (f.id.not_any_ != null) leaves.push(on((r: R) => r.id, noneOf(f.id.not_any_)));
    parts.push(combine(leaves));
  }
  if (f.name != null) parts.push(nameCondition(f.name, (r: R) => r.name));
  if (f.tags != null) parts.push(tagsCondition(f.tags, (r: R) => r.tags));
  if (f.deployment_id != null) {
    const leaves: Predicate<R>[] = [];
    if (f.deployment_id.any_ != null) leaves.push(on((r: R) => r.deployment_id, anyOf(f.deployment_id.any_)));
    if (f.deployment_id.is_null_ != null) leaves.push(on((r: R) => r.deployment_id, isNull(f.deployment_id.is_null_)));
    parts.push(combine(leaves, f.deployment_id.operator ?? 'and_'));
  }
  if (f.work_queue_name != null) {
    const leaves: Predicate<R>[] = [];
    if (f.work_queue_name.any_ != null) leaves.push(on((r: R) => r.work_queue_name, anyOf(f.work_queue_name.any_)));
    if (f.work_queue_name.is_null_ != null) leaves.push(on((r: R) => r.work_queue_name, isNull(f.work_queue_name.is_null_)));
    parts.push(combine(leaves, f.work_queue_name.operator ?? 'and_'));
  }
  if (f.state != null) parts.push(stateCondition<R>(f.state));
  if (f.flow_version != null) parts.push(f.flow_version.any_ != null ? on((r: R) => r.flow_version, anyOf(f.flow_version.any_)) : always);
  if (f.start_time != null) parts.push(boundsCondition(f.start_time, (r: R) => r.start_time));
  if (f.expected_start_time != null) parts.push(boundsCondition(f.expected_start_time, (r: R) => r.expected_start_time));
  if (f.next_scheduled_start_time != null) {
    parts.push(boundsCondition(f.next_scheduled_start_time, (r: R) => r.next_scheduled_start_time));
  }
  if (f.end_time != null) parts.push(boundsCondition(f.end_time, (r: R) => r.end_time));
  if (f.parent_flow_run_id != null) {
    const parents = f.parent_flow_run_id.any_;
    // A sub-flow run's parent flow run is the flow run of the task run that started it.
    const test = parents == null ? always : anyOf(parents);
    parts.push(
      parents == null
        ? always
        : (r: R) => r.parent_task_run_id !== null && test(ctx.taskRun(r.parent_task_run_id)?.flow_run_id ?? null),
    );
  }
  if (f.parent_task_run_id != null) {
    const leaves: Predicate<R>[] = [];
    if (f.parent_task_run_id.any_ != null) leaves.push(on((r: R) => r.parent_task_run_id, anyOf(f.parent_task_run_id.any_)));
    if (f.parent_task_run_id.is_null_ != null) {
      leaves.push(on((r: R) => r.parent_task_run_id, isNull(f.parent_task_run_id.is_null_)));
    }
    parts.push(combine(leaves, f.parent_task_run_id.operator ?? 'and_'));
  }
  if (f.idempotency_key != null) {
    const leaves: Predicate<R>[] = [];
    if (f.idempotency_key.any_ != null) leaves.push(on((r: R) => r.idempotency_key, anyOf(f.idempotency_key.any_)));
    if (f.idempotency_key.not_any_ != null) leaves.push(on((r: R) => r.idempotency_key, noneOf(f.idempotency_key.not_any_)));
    parts.push(combine(leaves));
  }
  if (f.created_by != null) {
    // Runs created through this API have no creator: ids and types never match, is_null_ is true.
    const leaves: Predicate<R>[] = [];
    if (f.created_by.id_ != null) leaves.push(() => false);
    if (f.created_by.type_ != null) leaves.push(() => false);
    if (f.created_by.is_null_ != null) leaves.push(f.created_by.is_null_ ? always : () => false);
    parts.push(combine(leaves, f.created_by.operator ?? 'and_'));
  }
  return combine(parts, f.operator ?? 'and_');
}

export function compileTaskRunFilter(f: TaskRunFilter | null | undefined, ctx: FilterContext): Predicate<TaskRunRecord> {
  if (f == null) return always;
  type R = TaskRunRecord;
  const parts: Predicate<R>[] = [];
  if (f.id != null) parts.push(f.id.any_ != null ? on((r: R) => r.id, anyOf(f.id.any_)) : always);
  if (f.name != null) parts.push(nameCondition(f.name, (r: R) => r.name));
  if (f.tags != null) parts.push(tagsCondition(f.tags, (r: R) => r.tags));
  if (f.state != null) parts.push(stateCondition<R>(f.state));
  if (f.start_time != null) parts.push(boundsCondition(f.start_time, (r: R) => r.start_time));
  if (f.expected_start_time != null) parts.push(boundsCondition(f.expected_start_time, (r: R) => r.expected_start_time));
  if (f.end_time != null) parts.push(boundsCondition(f.end_time, (r: R) => r.end_time));
  if (f.subflow_runs != null) {
    const exists = f.subflow_runs.exists_;
    parts.push(exists == null ? always : (r: R) => ctx.hasSubflowRuns(r.id) === exists);
  }
  if (f.flow_run_id != null) parts.push(taskFlowRunIdCondition(f.flow_run_id));
  return combine(parts, f.operator ?? 'and_');
}

/**
 * `TaskRunFilterFlowRunId`: `is_null_` defaults to false when absent, so `{}` means "has a flow
 * run"; an explicit `null` means no condition; `is_null_: true` ignores `any_`.
 */
function taskFlowRunIdCondition(f: { any_?: string[] | null; is_null_?: boolean | null }): Predicate<TaskRunRecord> {
  const isNullFlag = f.is_null_ === undefined ? false : f.is_null_;
  const column = (r: TaskRunRecord) => r.flow_run_id;
  if (isNullFlag === true) return on(column, isNull(true));
  if (f.any_ != null) return on(column, anyOf(f.any_));
  if (isNullFlag === false) return on(column, isNull(false));
  return always;
}
