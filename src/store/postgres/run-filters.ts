/**
 * The flow, flow run, task run and deployment filters compiled into SQL conditions, with the
 * semantics of their predicates (src/filters/{leaf,runs,flows}.ts, `shared/spec/filters.md`):
 * NULL never matches, an empty `any_` matches nothing and an empty `not_any_` everything,
 * `like_` is an ASCII-case-insensitive substring with `%` and `_` wildcards and no escape
 * character (`ILIKE … ESCAPE ''` on `COLLATE "C"` columns), tags `all_`/`any_`/`is_null_` as
 * array containment, overlap and emptiness.
 *
 * Every value is a parameter (`Params`); the text holds only placeholders, aliases and column
 * names. The conditions never negate a nullable comparison, so SQL's NULL is plain false
 * throughout (AND/OR alone cannot tell NULL from false in a WHERE clause).
 *
 * Also: how each companion route combines the four filters (LMDB: query/companions.ts), how the
 * artifact routes restrict artifacts by them (LMDB: query/runs.ts, EXISTS semantics), and the
 * companion sort orders (NULLs first ascending, last descending, ties by id descending).
 */
import type { RunFilters } from '../contract.ts';
import type { DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from '../../schemas/filters.ts';
import { parseDateTime } from '../../validation/datetime.ts';
import { rowOffset, type Params } from './params.ts';
import { pgText, pgTexts } from './schema-runs.ts';

const TRUE = 'TRUE';
const FALSE = 'FALSE';

/**
 * Joins conditions as `combine` (leaf.ts) does: none is TRUE; a neutral TRUE (AND) or FALSE (OR)
 * dropped. An absorbing one is kept in place, not folded: the parts beside it may hold
 * placeholders, and every parameter must appear in the text (PostgreSQL types each one).
 */
export function combineSql(parts: string[], operator: 'and_' | 'or_' | null | undefined = 'and_'): string {
  const or = operator === 'or_';
  if (parts.length === 0) return TRUE;
  const neutral = or ? FALSE : TRUE;
  const live = parts.filter((p) => p !== neutral);
  if (live.length === 0) return neutral;
  if (live.length === 1) return live[0];
  return `(${live.join(or ? ' OR ' : ' AND ')})`;
}

/** Fresh table aliases for the subqueries of one statement: the same shape gives the same text. */
const aliasCounts = new WeakMap<Params, number>();
function alias(p: Params, base: string): string {
  const n = (aliasCounts.get(p) ?? 0) + 1;
  aliasCounts.set(p, n);
  return `${base}${n}`;
}

// ── leaves ─────────────────────────────────────────────────────────────────────────────────

const anyOf = (p: Params, column: string, values: readonly string[]) =>
  values.length === 0 ? FALSE : `${column} = ANY(${p.add(pgTexts(values))}::text[])`;

const noneOf = (p: Params, column: string, values: readonly string[]) =>
  values.length === 0 ? TRUE : `(${column} IS NOT NULL AND ${column} <> ALL(${p.add(pgTexts(values))}::text[]))`;

/** `like_`: `%` + pattern + `%`, ASCII-case-insensitive (the columns are `COLLATE "C"`), no escape character. */
const like = (p: Params, column: string, pattern: string) => `${column} ILIKE ${p.add(`%${pgText(pattern)}%`)} ESCAPE ''`;

const isNull = (column: string, wantNull: boolean) => `${column} IS ${wantNull ? '' : 'NOT '}NULL`;

type Bounds = { before_?: string | null; after_?: string | null; is_null_?: boolean | null };

/** A µs bound as a parameter (bigint). */
const micros = (p: Params, s: string) => `${p.add(String(parseDateTime(s)))}::bigint`;

function boundsCondition(p: Params, f: Bounds, column: string): string {
  const parts: string[] = [];
  if (f.before_ != null || f.after_ != null) {
    const range = [`${column} IS NOT NULL`];
    if (f.before_ != null) range.push(`${column} <= ${micros(p, f.before_)}`);
    if (f.after_ != null) range.push(`${column} >= ${micros(p, f.after_)}`);
    parts.push(`(${range.join(' AND ')})`);
  }
  if (f.is_null_ != null) parts.push(isNull(column, f.is_null_));
  return combineSql(parts);
}

function nameCondition(p: Params, f: { any_?: string[] | null; like_?: string | null }, column: string): string {
  const parts: string[] = [];
  if (f.any_ != null) parts.push(anyOf(p, column, f.any_));
  if (f.like_ != null) parts.push(like(p, column, f.like_));
  return combineSql(parts);
}

type TagsFilter = { operator?: 'and_' | 'or_' | null; all_?: string[] | null; any_?: string[] | null; is_null_?: boolean | null };

function tagsCondition(p: Params, f: TagsFilter, column: string): string {
  const parts: string[] = [];
  if (f.all_ != null) parts.push(f.all_.length === 0 ? TRUE : `${column} @> ${p.add(pgTexts(f.all_))}::text[]`);
  if (f.any_ != null) parts.push(f.any_.length === 0 ? FALSE : `${column} && ${p.add(pgTexts(f.any_))}::text[]`);
  if (f.is_null_ != null) parts.push(`cardinality(${column}) ${f.is_null_ ? '=' : '>'} 0`);
  return combineSql(parts, f.operator);
}

function idsCondition(p: Params, f: { any_?: string[] | null; not_any_?: string[] | null }, column: string): string {
  const parts: string[] = [];
  if (f.any_ != null) parts.push(anyOf(p, column, f.any_));
  if (f.not_any_ != null) parts.push(noneOf(p, column, f.not_any_));
  return combineSql(parts);
}

type StateFilter = {
  operator?: 'and_' | 'or_' | null;
  type?: { any_?: string[] | null; not_any_?: string[] | null } | null;
  name?: { any_?: string[] | null; not_any_?: string[] | null } | null;
};

/** The state filter's operator joins its leaves flattened across `type` and `name`. */
function stateCondition(p: Params, f: StateFilter, a: string): string {
  const leaves: string[] = [];
  if (f.type?.any_ != null) leaves.push(anyOf(p, `${a}.state_type`, f.type.any_));
  if (f.type?.not_any_ != null) leaves.push(noneOf(p, `${a}.state_type`, f.type.not_any_));
  if (f.name?.any_ != null) leaves.push(anyOf(p, `${a}.state_name`, f.name.any_));
  if (f.name?.not_any_ != null) leaves.push(noneOf(p, `${a}.state_name`, f.name.not_any_));
  return combineSql(leaves, f.operator);
}

// ── the four filter models ─────────────────────────────────────────────────────────────────

/** `FlowFilter` on the flow row aliased `a`. */
function flowCondition(f: FlowFilter | null | undefined, p: Params, a: string): string {
  if (f == null) return TRUE;
  const parts: string[] = [];
  if (f.id != null) parts.push(idsCondition(p, f.id, `${a}.id`));
  if (f.deployment != null) {
    const wantNone = f.deployment.is_null_;
    if (wantNone == null) parts.push(TRUE);
    else {
      const d = alias(p, 'fd');
      parts.push(`${wantNone ? 'NOT ' : ''}EXISTS (SELECT 1 FROM deployment ${d} WHERE ${d}.flow_id = ${a}.id)`);
    }
  }
  if (f.name != null) parts.push(nameCondition(p, f.name, `${a}.name`));
  if (f.tags != null) parts.push(tagsCondition(p, f.tags, `${a}.tags`));
  return combineSql(parts, f.operator);
}

/** `DeploymentFilter` on the deployment row aliased `a`. */
function deploymentCondition(f: DeploymentFilter | null | undefined, p: Params, a: string): string {
  if (f == null) return TRUE;
  const parts: string[] = [];
  if (f.id != null) parts.push(idsCondition(p, f.id, `${a}.id`));
  if (f.name != null) parts.push(nameCondition(p, f.name, `${a}.name`));
  if (f.flow_or_deployment_name != null) {
    const pattern = f.flow_or_deployment_name.like_;
    if (pattern == null) parts.push(TRUE);
    else {
      const fl = alias(p, 'df');
      parts.push(`(${like(p, `${a}.name`, pattern)} OR EXISTS (SELECT 1 FROM flow ${fl} WHERE ${fl}.id = ${a}.flow_id AND ${like(p, `${fl}.name`, pattern)}))`);
    }
  }
  if (f.paused != null) parts.push(f.paused.eq_ == null ? TRUE : `${a}.paused = ${p.add(f.paused.eq_)}::boolean`);
  if (f.tags != null) parts.push(tagsCondition(p, f.tags, `${a}.tags`));
  if (f.work_queue_name != null) parts.push(f.work_queue_name.any_ != null ? anyOf(p, `${a}.work_queue_name`, f.work_queue_name.any_) : TRUE);
  if (f.concurrency_limit != null) {
    const { ge_, le_, is_null_ } = f.concurrency_limit;
    const leaves: string[] = [];
    if (ge_ != null) leaves.push(`${a}.concurrency_limit >= ${p.add(ge_)}::float8`);
    if (le_ != null) leaves.push(`${a}.concurrency_limit <= ${p.add(le_)}::float8`);
    if (is_null_ != null) leaves.push(isNull(`${a}.concurrency_limit`, is_null_));
    parts.push(combineSql(leaves));
  }
  return combineSql(parts, f.operator);
}

/** `FlowRunFilter` on the flow run row aliased `a`. */
function flowRunCondition(f: FlowRunFilter | null | undefined, p: Params, a: string): string {
  if (f == null) return TRUE;
  const parts: string[] = [];
  if (f.id != null) parts.push(idsCondition(p, f.id, `${a}.id`));
  if (f.name != null) parts.push(nameCondition(p, f.name, `${a}.name`));
  if (f.tags != null) parts.push(tagsCondition(p, f.tags, `${a}.tags`));
  for (const field of ['deployment_id', 'work_queue_name', 'parent_task_run_id'] as const) {
    const sub = f[field];
    if (sub == null) continue;
    const leaves: string[] = [];
    if (sub.any_ != null) leaves.push(anyOf(p, `${a}.${field}`, sub.any_));
    if (sub.is_null_ != null) leaves.push(isNull(`${a}.${field}`, sub.is_null_));
    parts.push(combineSql(leaves, sub.operator));
  }
  if (f.state != null) parts.push(stateCondition(p, f.state, a));
  if (f.flow_version != null) parts.push(f.flow_version.any_ != null ? anyOf(p, `${a}.flow_version`, f.flow_version.any_) : TRUE);
  if (f.start_time != null) parts.push(boundsCondition(p, f.start_time, `${a}.start_time`));
  if (f.expected_start_time != null) parts.push(boundsCondition(p, f.expected_start_time, `${a}.expected_start_time`));
  if (f.next_scheduled_start_time != null) parts.push(boundsCondition(p, f.next_scheduled_start_time, `${a}.next_scheduled_start_time`));
  if (f.end_time != null) parts.push(boundsCondition(p, f.end_time, `${a}.end_time`));
  if (f.parent_flow_run_id != null) {
    const parents = f.parent_flow_run_id.any_;
    if (parents == null) parts.push(TRUE);
    else if (parents.length === 0) parts.push(FALSE);
    else {
      // A sub-flow run's parent flow run is the flow run of the task run that started it.
      const t = alias(p, 'pt');
      parts.push(`EXISTS (SELECT 1 FROM task_run ${t} WHERE ${t}.id = ${a}.parent_task_run_id AND ${anyOf(p, `${t}.flow_run_id`, parents)})`);
    }
  }
  if (f.idempotency_key != null) parts.push(idsCondition(p, f.idempotency_key, `${a}.idempotency_key`));
  if (f.created_by != null) {
    // Runs created through this API have no creator: ids and types never match, is_null_ is true.
    const leaves: string[] = [];
    if (f.created_by.id_ != null) leaves.push(FALSE);
    if (f.created_by.type_ != null) leaves.push(FALSE);
    if (f.created_by.is_null_ != null) leaves.push(f.created_by.is_null_ ? TRUE : FALSE);
    parts.push(combineSql(leaves, f.created_by.operator));
  }
  return combineSql(parts, f.operator);
}

/** `TaskRunFilter` on the task run row aliased `a`. */
function taskRunCondition(f: TaskRunFilter | null | undefined, p: Params, a: string): string {
  if (f == null) return TRUE;
  const parts: string[] = [];
  if (f.id != null) parts.push(f.id.any_ != null ? anyOf(p, `${a}.id`, f.id.any_) : TRUE);
  if (f.name != null) parts.push(nameCondition(p, f.name, `${a}.name`));
  if (f.tags != null) parts.push(tagsCondition(p, f.tags, `${a}.tags`));
  if (f.state != null) parts.push(stateCondition(p, f.state, a));
  if (f.start_time != null) parts.push(boundsCondition(p, f.start_time, `${a}.start_time`));
  if (f.expected_start_time != null) parts.push(boundsCondition(p, f.expected_start_time, `${a}.expected_start_time`));
  if (f.end_time != null) parts.push(boundsCondition(p, f.end_time, `${a}.end_time`));
  if (f.subflow_runs != null) {
    const exists = f.subflow_runs.exists_;
    if (exists == null) parts.push(TRUE);
    else {
      const r = alias(p, 'sf');
      parts.push(`${exists ? '' : 'NOT '}EXISTS (SELECT 1 FROM flow_run ${r} WHERE ${r}.parent_task_run_id = ${a}.id)`);
    }
  }
  if (f.flow_run_id != null) {
    // `is_null_` defaults to false when absent (`{}` means "has a flow run"); true ignores `any_`.
    const sub = f.flow_run_id;
    const isNullFlag = sub.is_null_ === undefined ? false : sub.is_null_;
    const column = `${a}.flow_run_id`;
    if (isNullFlag === true) parts.push(isNull(column, true));
    else if (sub.any_ != null) parts.push(anyOf(p, column, sub.any_));
    else if (isNullFlag === false) parts.push(isNull(column, false));
    else parts.push(TRUE);
  }
  return combineSql(parts, f.operator);
}

// ── combinations ───────────────────────────────────────────────────────────────────────────

/**
 * A flow run (aliased `a`) on the flow-run side: it matches `flow_runs`, its flow exists and
 * matches `flows`, its deployment exists and matches `deployments` — each only when present.
 */
function flowRunSideCondition(filters: RunFilters, p: Params, a: string): string {
  const parts = [flowRunCondition(filters.flow_runs, p, a)];
  if (filters.flows) {
    const f = alias(p, 'f');
    parts.push(`EXISTS (SELECT 1 FROM flow ${f} WHERE ${f}.id = ${a}.flow_id AND ${flowCondition(filters.flows, p, f)})`);
  }
  if (filters.deployments) {
    const d = alias(p, 'd');
    parts.push(`EXISTS (SELECT 1 FROM deployment ${d} WHERE ${d}.id = ${a}.deployment_id AND ${deploymentCondition(filters.deployments, p, d)})`);
  }
  return combineSql(parts);
}

/** Some task run of the flow run aliased `a` matches `task_runs`. */
function hasTaskRun(filters: RunFilters, p: Params, a: string): string {
  const t = alias(p, 't');
  return `EXISTS (SELECT 1 FROM task_run ${t} WHERE ${t}.flow_run_id = ${a}.id AND ${taskRunCondition(filters.task_runs, p, t)})`;
}

/** A flow run matches `flow_runs` and, when `task_runs` is present, has a task run matching it. */
function runWithTask(filters: RunFilters, p: Params, a: string): string {
  const parts = [flowRunCondition(filters.flow_runs, p, a)];
  if (filters.task_runs) parts.push(hasTaskRun(filters, p, a));
  return combineSql(parts);
}

/** `POST /flows/filter`: the flow matches `flows`, has a deployment matching `deployments`, and a run matching the run side. */
export function flowsWhere(filters: RunFilters, p: Params, a: string): string {
  const parts = [flowCondition(filters.flows, p, a)];
  if (filters.deployments) {
    const d = alias(p, 'd');
    parts.push(`EXISTS (SELECT 1 FROM deployment ${d} WHERE ${d}.flow_id = ${a}.id AND ${deploymentCondition(filters.deployments, p, d)})`);
  }
  if (filters.flow_runs || filters.task_runs) {
    const r = alias(p, 'r');
    parts.push(`EXISTS (SELECT 1 FROM flow_run ${r} WHERE ${r}.flow_id = ${a}.id AND ${runWithTask(filters, p, r)})`);
  }
  return combineSql(parts);
}

/** `POST /flow_runs/filter`: the flow-run side, and a task run matching `task_runs` when present. */
export function flowRunsWhere(filters: RunFilters, p: Params, a: string): string {
  const parts = [flowRunSideCondition(filters, p, a)];
  if (filters.task_runs) parts.push(hasTaskRun(filters, p, a));
  return combineSql(parts);
}

/** `POST /task_runs/filter`: the task run matches `task_runs`, and its flow run the flow-run side when any flow-side filter is present. */
export function taskRunsWhere(filters: RunFilters, p: Params, a: string): string {
  const parts = [taskRunCondition(filters.task_runs, p, a)];
  if (filters.flow_runs || filters.flows || filters.deployments) {
    const r = alias(p, 'r');
    parts.push(`EXISTS (SELECT 1 FROM flow_run ${r} WHERE ${r}.id = ${a}.flow_run_id AND ${flowRunSideCondition(filters, p, r)})`);
  }
  return combineSql(parts);
}

/** `POST /deployments/filter`: the deployment matches, its flow exists and matches `flows`, and a run of it matches the run side. */
export function deploymentsWhere(filters: RunFilters, p: Params, a: string): string {
  const parts = [deploymentCondition(filters.deployments, p, a)];
  if (filters.flows) {
    const f = alias(p, 'f');
    parts.push(`EXISTS (SELECT 1 FROM flow ${f} WHERE ${f}.id = ${a}.flow_id AND ${flowCondition(filters.flows, p, f)})`);
  }
  if (filters.flow_runs || filters.task_runs) {
    const r = alias(p, 'r');
    parts.push(`EXISTS (SELECT 1 FROM flow_run ${r} WHERE ${r}.deployment_id = ${a}.id AND ${runWithTask(filters, p, r)})`);
  }
  return combineSql(parts);
}

/**
 * The condition an artifact (or collection) row must meet for the request's run filters, its
 * flow run and task run ids being the column expressions given; null when no run filter is
 * present (`shared/spec/filters.md` §8). Any of `flows`, `flow_runs`, `deployments` present
 * (even `{}`): the artifact's flow run exists and is on the flow-run side; `task_runs`
 * present: its task run exists and matches.
 */
export function runConditions(filters: RunFilters, params: Params, flowRunIdColumn: string, taskRunIdColumn: string): string | null {
  const parts: string[] = [];
  if (filters.flow_runs || filters.flows || filters.deployments) {
    const r = alias(params, 'ar');
    parts.push(`EXISTS (SELECT 1 FROM flow_run ${r} WHERE ${r}.id = ${flowRunIdColumn} AND ${flowRunSideCondition(filters, params, r)})`);
  }
  if (filters.task_runs) {
    const t = alias(params, 'at');
    parts.push(`EXISTS (SELECT 1 FROM task_run ${t} WHERE ${t}.id = ${taskRunIdColumn} AND ${taskRunCondition(filters.task_runs, params, t)})`);
  }
  return parts.length === 0 ? null : combineSql(parts);
}

// ── sorts ──────────────────────────────────────────────────────────────────────────────────

/** One sort column: NULLs first ascending and last descending; ties by id descending. */
const by = (a: string, column: string, direction: 'asc' | 'desc') =>
  `${column} ${direction === 'asc' ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'}, ${a}.id DESC`;

/** ORDER BY of the flow and deployment sorts (CREATED_DESC, UPDATED_DESC, NAME_ASC, NAME_DESC). */
export function namedOrder(sort: string, a: string): string {
  switch (sort) {
    case 'CREATED_DESC':
      return by(a, `${a}.created`, 'desc');
    case 'UPDATED_DESC':
      return by(a, `${a}.updated`, 'desc');
    case 'NAME_ASC':
      return by(a, `${a}.name_key`, 'asc');
    case 'NAME_DESC':
      return by(a, `${a}.name_key`, 'desc');
  }
  throw new Error(`unknown sort ${sort}`);
}

/** ORDER BY of the flow run and task run sorts. */
export function runOrder(sort: string, a: string): string {
  switch (sort) {
    case 'ID_DESC':
      return by(a, `${a}.id`, 'desc');
    case 'START_TIME_ASC':
      return by(a, `COALESCE(${a}.start_time, ${a}.expected_start_time)`, 'asc');
    case 'START_TIME_DESC':
      return by(a, `COALESCE(${a}.start_time, ${a}.expected_start_time)`, 'desc');
    case 'EXPECTED_START_TIME_ASC':
      return by(a, `${a}.expected_start_time`, 'asc');
    case 'EXPECTED_START_TIME_DESC':
      return by(a, `${a}.expected_start_time`, 'desc');
    case 'NAME_ASC':
      return by(a, `${a}.name_key`, 'asc');
    case 'NAME_DESC':
      return by(a, `${a}.name_key`, 'desc');
    case 'NEXT_SCHEDULED_START_TIME_ASC':
      return by(a, `${a}.next_scheduled_start_time`, 'asc');
    case 'END_TIME_DESC':
      return by(a, `${a}.end_time`, 'desc');
  }
  throw new Error(`unknown sort ${sort}`);
}

/** `LIMIT … OFFSET …` of a page, as parameters. */
export const pageSql = (p: Params, page: { offset: number; limit: number }) => `LIMIT ${p.add(page.limit)}::bigint OFFSET ${p.add(rowOffset(page.offset))}::bigint`;
