/**
 * Resolves the run-side filters of an artifact query (`flows`, `flow_runs`, `deployments`, and
 * `task_runs`) to the sets of flow run and task run ids an artifact must point at
 * (`shared/spec/filters.md` §8). The artifact query then reads only those runs' artifacts
 * through the run indexes, or tests membership while walking its sort index.
 */
import type { FilterContext } from '../filters/context.ts';
import { compileDeploymentFilter, compileFlowFilter } from '../filters/flows.ts';
import { compileFlowRunFilter, compileTaskRunFilter } from '../filters/runs.ts';
import type { DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from '../schemas/filters.ts';
import type { FlowRunRecord, TaskRunRecord } from '../store/companion-records.ts';
import {
  deploymentIdsOfFlow,
  flowRunIdsInState,
  flowRunIdsOfDeployment,
  flowRunIdsOfFlow,
  stateCounter,
  subflowRunIds,
} from '../store/rows.ts';
import type { Store } from '../store/store.ts';
import type { Predicate } from '../filters/leaf.ts';

/** The run-related filters of a request; absent (or null) ones are undefined. */
export interface RunFilters {
  flow_runs?: FlowRunFilter;
  task_runs?: TaskRunFilter;
  flows?: FlowFilter;
  deployments?: DeploymentFilter;
}

/** A set of run ids: a real Set, or one answered from an index without being materialized. */
export interface IdSet extends Iterable<string> {
  readonly size: number;
  has(id: string): boolean;
}

/** Ids an artifact's `flow_run_id` / `task_run_id` must be in; undefined means no condition. */
export interface RunSets {
  flowRunIds?: IdSet;
  taskRunIds?: IdSet;
}

/**
 * The flow runs in some states, as an IdSet: its size comes from per-state counters, membership
 * from the run's record, and only iterating it reads the state index. A short page walks the
 * sort index and asks `has` a few times instead of building a set of every such run.
 */
class RunsInStates implements IdSet {
  readonly size: number;
  constructor(
    private readonly store: Store,
    private readonly types: string[],
  ) {
    this.size = types.reduce((n, type) => n + (store.dbs.counters.get(stateCounter(type)) ?? 0), 0);
  }
  has(id: string): boolean {
    const type = this.store.dbs.flowRuns.get(id)?.state_type;
    return type != null && this.types.includes(type);
  }
  *[Symbol.iterator](): Iterator<string> {
    for (const type of this.types) yield* flowRunIdsInState(this.store.dbs, type);
  }
}

export function filterContext(store: Store): FilterContext {
  const { dbs } = store;
  return {
    flow: (id) => dbs.flows.get(id),
    flowRun: (id) => dbs.flowRuns.get(id),
    taskRun: (id) => dbs.taskRuns.get(id),
    deployment: (id) => dbs.deployments.get(id),
    hasSubflowRuns: (taskRunId) => subflowRunIds(dbs, taskRunId).length > 0,
    flowHasDeployments: (flowId) => deploymentIdsOfFlow(dbs, flowId).length > 0,
  };
}

/**
 * A flow run matches the flow-run side when it matches `flow_runs`, its flow matches `flows`,
 * and its deployment exists and matches `deployments` — each only when present.
 */
export function flowRunSide(store: Store, filters: RunFilters, ctx = filterContext(store)): Predicate<FlowRunRecord> {
  const run = compileFlowRunFilter(filters.flow_runs, ctx);
  const flow = filters.flows ? compileFlowFilter(filters.flows, ctx) : undefined;
  const deployment = filters.deployments ? compileDeploymentFilter(filters.deployments, ctx) : undefined;
  return (r) => {
    if (!run(r)) return false;
    if (flow) {
      const f = ctx.flow(r.flow_id);
      if (!f || !flow(f)) return false;
    }
    if (deployment) {
      const d = r.deployment_id === null ? undefined : ctx.deployment(r.deployment_id);
      if (!d || !deployment(d)) return false;
    }
    return true;
  };
}

/**
 * Flow runs the flow-run side can match, read through the narrowest index a filter names (run
 * ids, deployment ids, flow ids, state types — each only where its operator makes it a must),
 * or every run.
 */
function flowRunCandidates(store: Store, filters: RunFilters): Iterable<FlowRunRecord> {
  const { dbs } = store;
  const and = (f: { operator?: string | null } | null | undefined) => f != null && (f.operator ?? 'and_') === 'and_';
  const runs = (ids: Iterable<string>) => {
    const out: FlowRunRecord[] = [];
    for (const id of new Set(ids)) {
      const run = dbs.flowRuns.get(id);
      if (run) out.push(run);
    }
    return out;
  };
  const { flow_runs: fr, deployments, flows } = filters;
  if (and(fr) && fr!.id?.any_) return runs(fr!.id.any_);
  if (and(deployments) && deployments!.id?.any_) return runs(deployments!.id.any_.flatMap((d) => flowRunIdsOfDeployment(dbs, d)));
  if (and(flows) && flows!.id?.any_) return runs(flows!.id.any_.flatMap((f) => flowRunIdsOfFlow(dbs, f)));
  if (and(fr) && and(fr!.state) && fr!.state!.type?.any_) {
    return runs(fr!.state!.type.any_.flatMap((type) => flowRunIdsInState(dbs, type)));
  }
  return store.flowRuns.all();
}

/**
 * The flow-run ids an index yields directly, when the flow-run side is exactly one indexed list
 * (`flow_runs` is only `id.any_` or only `state.type.any_`, with no `flows`/`deployments`): then
 * no run record needs reading.
 */
function exactFlowRunIds(store: Store, filters: RunFilters): IdSet | undefined {
  const fr = filters.flow_runs;
  if (!fr || filters.flows || filters.deployments) return undefined;
  const present = Object.entries(fr).filter(([name, value]) => name !== 'operator' && value != null);
  if (present.length !== 1) return undefined;
  const [field, sub] = present[0] as [string, Record<string, unknown>];
  const leaves = Object.entries(sub).filter(([name, value]) => name !== 'operator' && value != null);
  if (field === 'id' && leaves.length === 1 && fr.id?.any_) {
    return new Set(fr.id.any_.filter((id) => store.dbs.flowRuns.doesExist(id)));
  }
  if (field === 'state' && leaves.length === 1 && fr.state?.type) {
    const typeLeaves = Object.entries(fr.state.type).filter(([, value]) => value != null);
    if (typeLeaves.length === 1 && fr.state.type.any_) {
      return new RunsInStates(store, [...new Set(fr.state.type.any_)]);
    }
  }
  return undefined;
}

export function resolveRunSets(store: Store, filters: RunFilters): RunSets {
  const sets: RunSets = {};
  const ctx = filterContext(store);
  if (filters.flow_runs || filters.flows || filters.deployments) {
    const exact = exactFlowRunIds(store, filters);
    if (exact) {
      sets.flowRunIds = exact;
    } else {
      const matches = flowRunSide(store, filters, ctx);
      const ids = new Set<string>();
      for (const run of flowRunCandidates(store, filters)) if (matches(run)) ids.add(run.id);
      sets.flowRunIds = ids;
    }
  }
  if (filters.task_runs) {
    const matches = compileTaskRunFilter(filters.task_runs, ctx);
    const f = filters.task_runs;
    const candidates: Iterable<TaskRunRecord> =
      (f.operator ?? 'and_') === 'and_' && f.id?.any_
        ? f.id.any_.map((id) => store.dbs.taskRuns.get(id)).filter((t): t is TaskRunRecord => t !== undefined)
        : store.taskRuns.all();
    const ids = new Set<string>();
    for (const task of candidates) if (matches(task)) ids.add(task.id);
    sets.taskRunIds = ids;
  }
  return sets;
}
