/**
 * Filter, sort, page and count flows, flow runs, task runs and deployments, each combining the
 * four run-related filters the way Prefect's model for that resource does
 * (`shared/spec/companions.md`, "filter combination" under each resource). These tables are
 * small next to artifacts, so they are scanned and sorted in memory.
 */
import { compileDeploymentFilter, compileFlowFilter } from '../../../filters/flows.ts';
import type { Predicate } from '../../../filters/leaf.ts';
import { compileFlowRunFilter, compileTaskRunFilter } from '../../../filters/runs.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../../companion-records.ts';
import { flowRunIdsOfDeployment, flowRunIdsOfFlow, taskRunIdsOfFlowRun } from '../rows.ts';
import type { LmdbStore as Store } from '../store.ts';
import type { Page } from './execute.ts';
import { filterContext, flowRunSide, type RunFilters } from './runs.ts';

type Compare<T> = (a: T, b: T) => number;
type Value = string | number | null;

/** One sort column; NULLs first ascending and last descending (SQLite's order); ties by id. */
function by<T extends { id: string }>(column: (row: T) => Value, direction: 'asc' | 'desc'): Compare<T> {
  const sign = direction === 'asc' ? 1 : -1;
  return (a, b) => {
    const x = column(a);
    const y = column(b);
    if (x !== y) {
      if (x === null) return -sign;
      if (y === null) return sign;
      return (x < y ? -1 : 1) * sign;
    }
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  };
}

const NAMED_ORDERS = {
  CREATED_DESC: <T extends FlowRecord | DeploymentRecord>() => by<T>((r) => r.created, 'desc'),
  UPDATED_DESC: <T extends FlowRecord | DeploymentRecord>() => by<T>((r) => r.updated, 'desc'),
  NAME_ASC: <T extends FlowRecord | DeploymentRecord>() => by<T>((r) => r.name, 'asc'),
  NAME_DESC: <T extends FlowRecord | DeploymentRecord>() => by<T>((r) => r.name, 'desc'),
};

type Run = FlowRunRecord | TaskRunRecord;
const RUN_ORDERS: Record<string, () => Compare<Run>> = {
  ID_DESC: () => by((r) => r.id, 'desc'),
  START_TIME_ASC: () => by((r) => r.start_time ?? r.expected_start_time, 'asc'),
  START_TIME_DESC: () => by((r) => r.start_time ?? r.expected_start_time, 'desc'),
  EXPECTED_START_TIME_ASC: () => by((r) => r.expected_start_time, 'asc'),
  EXPECTED_START_TIME_DESC: () => by((r) => r.expected_start_time, 'desc'),
  NAME_ASC: () => by((r) => r.name, 'asc'),
  NAME_DESC: () => by((r) => r.name, 'desc'),
  NEXT_SCHEDULED_START_TIME_ASC: () => by((r) => r.next_scheduled_start_time, 'asc'),
  END_TIME_DESC: () => by((r) => r.end_time, 'desc'),
};

function select<T>(rows: Iterable<T>, test: Predicate<T>): T[] {
  const out: T[] = [];
  for (const row of rows) if (test(row)) out.push(row);
  return out;
}

const pageOf = <T>(rows: T[], order: Compare<T>, { offset, limit }: Page) => rows.sort(order).slice(offset, offset + limit);

function some<T>(ids: string[], get: (id: string) => T | undefined, test: Predicate<T>): boolean {
  for (const id of ids) {
    const row = get(id);
    if (row && test(row)) return true;
  }
  return false;
}

// ── flows ──────────────────────────────────────────────────────────────────────────────────

/** A flow matches `flows`, has a deployment matching `deployments`, and a run matching the run side. */
function flowPredicate(store: Store, filters: RunFilters): Predicate<FlowRecord> {
  const ctx = filterContext(store);
  const flow = compileFlowFilter(filters.flows, ctx);
  const deployment = filters.deployments ? compileDeploymentFilter(filters.deployments, ctx) : undefined;
  const runs = filters.flow_runs || filters.task_runs ? runWithTask(store, filters) : undefined;
  return (f) =>
    flow(f) &&
    (!deployment || store.deployments.ofFlow(f.id).some(deployment)) &&
    (!runs || some(flowRunIdsOfFlow(store.dbs, f.id), (id) => store.dbs.flowRuns.get(id), runs));
}

/** A flow run matches `flow_runs` and, when `task_runs` is present, has a task run matching it. */
function runWithTask(store: Store, filters: RunFilters): Predicate<FlowRunRecord> {
  const ctx = filterContext(store);
  const run = compileFlowRunFilter(filters.flow_runs, ctx);
  const task = filters.task_runs ? compileTaskRunFilter(filters.task_runs, ctx) : undefined;
  return (r) => run(r) && (!task || some(taskRunIdsOfFlowRun(store.dbs, r.id), (id) => store.dbs.taskRuns.get(id), task));
}

export function findFlows(store: Store, filters: RunFilters, sort: keyof typeof NAMED_ORDERS, page: Page): FlowRecord[] {
  return pageOf(select(store.flows.all(), flowPredicate(store, filters)), NAMED_ORDERS[sort]<FlowRecord>(), page);
}

export const countFlows = (store: Store, filters: RunFilters) => select(store.flows.all(), flowPredicate(store, filters)).length;

// ── flow runs ──────────────────────────────────────────────────────────────────────────────

function flowRunPredicate(store: Store, filters: RunFilters): Predicate<FlowRunRecord> {
  const side = flowRunSide(store, filters);
  const task = filters.task_runs ? compileTaskRunFilter(filters.task_runs, filterContext(store)) : undefined;
  return (r) => side(r) && (!task || some(taskRunIdsOfFlowRun(store.dbs, r.id), (id) => store.dbs.taskRuns.get(id), task));
}

export function findFlowRuns(store: Store, filters: RunFilters, sort: string, page: Page): FlowRunRecord[] {
  return pageOf(select(store.flowRuns.all(), flowRunPredicate(store, filters)), RUN_ORDERS[sort](), page);
}

export const countFlowRuns = (store: Store, filters: RunFilters) =>
  select(store.flowRuns.all(), flowRunPredicate(store, filters)).length;

// ── task runs ──────────────────────────────────────────────────────────────────────────────

/** A task run matches `task_runs` and, when any flow-side filter is present, its flow run matches. */
function taskRunPredicate(store: Store, filters: RunFilters): Predicate<TaskRunRecord> {
  const task = compileTaskRunFilter(filters.task_runs, filterContext(store));
  const side = filters.flow_runs || filters.flows || filters.deployments ? flowRunSide(store, filters) : undefined;
  return (t) => {
    if (!task(t)) return false;
    if (!side) return true;
    const run = t.flow_run_id === null ? undefined : store.dbs.flowRuns.get(t.flow_run_id);
    return run !== undefined && side(run);
  };
}

export function findTaskRuns(store: Store, filters: RunFilters, sort: string, page: Page): TaskRunRecord[] {
  return pageOf(select(store.taskRuns.all(), taskRunPredicate(store, filters)), RUN_ORDERS[sort](), page);
}

export const countTaskRuns = (store: Store, filters: RunFilters) =>
  select(store.taskRuns.all(), taskRunPredicate(store, filters)).length;

// ── deployments ────────────────────────────────────────────────────────────────────────────

function deploymentPredicate(store: Store, filters: RunFilters): Predicate<DeploymentRecord> {
  const ctx = filterContext(store);
  const deployment = compileDeploymentFilter(filters.deployments, ctx);
  const flow = filters.flows ? compileFlowFilter(filters.flows, ctx) : undefined;
  const runs = filters.flow_runs || filters.task_runs ? runWithTask(store, filters) : undefined;
  return (d) => {
    if (!deployment(d)) return false;
    if (flow) {
      const f = ctx.flow(d.flow_id);
      if (!f || !flow(f)) return false;
    }
    return !runs || some(flowRunIdsOfDeployment(store.dbs, d.id), (id) => store.dbs.flowRuns.get(id), runs);
  };
}

export function findDeployments(store: Store, filters: RunFilters, sort: keyof typeof NAMED_ORDERS, page: Page): DeploymentRecord[] {
  return pageOf(select(store.deployments.all(), deploymentPredicate(store, filters)), NAMED_ORDERS[sort]<DeploymentRecord>(), page);
}

export const countDeployments = (store: Store, filters: RunFilters) =>
  select(store.deployments.all(), deploymentPredicate(store, filters)).length;

