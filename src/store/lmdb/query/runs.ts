/**
 * Resolves the run-side filters of an artifact query (`flows`, `flow_runs`, `deployments`, and
 * `task_runs`) to the sets of flow run and task run ids an artifact must point at
 * (`shared/spec/filters.md` §8). The artifact query then reads only those runs' artifacts
 * through the run indexes, or tests membership while walking its sort index.
 */
import type { FilterContext } from '../../../filters/context.ts';
import { compileDeploymentFilter, compileFlowFilter } from '../../../filters/flows.ts';
import { always, combine, like, type Predicate } from '../../../filters/leaf.ts';
import { compileFlowRunFilter, compileTaskRunFilter } from '../../../filters/runs.ts';
import type { DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from '../../../schemas/filters.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../../companion-records.ts';
import { indexString } from '../../index-keys.ts';
import { deploymentCounter, deploymentIdsOfFlow, entriesCounter, flowCounter, stateCounter, stateNameKey, subflowRunIds, taskRunIdsOfFlowRun } from '../rows.ts';
import type { LmdbStore as Store } from '../store.ts';
import { parseDateTime } from '../../../validation/datetime.ts';
import { AllIds, bySize, InRange, intersect, Tested, UnderPrefixes, unite, Without, type IdSet, type KeyIndex } from './id-sets.ts';

export type { IdSet } from './id-sets.ts';
import { ROWS_PER_PAUSE, toEnd, type Sliced } from './slices.ts';

/** The run-related filters of a request; absent (or null) ones are undefined. */
export type { RunFilters } from '../../contract.ts';
import type { RunFilters } from '../../contract.ts';

/** Ids an artifact's `flow_run_id` / `task_run_id` must be in; undefined means no condition. */
export interface RunSets {
  flowRunIds?: IdSet;
  taskRunIds?: IdSet;
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

// ── resolving the run sides through indexes ─────────────────────────────────────────────────

/**
 * One side of the run filters, compiled as an AND of four kinds of condition: sets of ids an
 * index yields exactly (one per ANDed condition it answers), tests of the id alone (an index
 * probe, no record), the residual tests that need the record, and conditions that either scan
 * an index's keys for an exact set or test the record, whichever is cheaper (`resolveSide`).
 */
interface Compiled<R> {
  exact: IdSet[];
  idTests: ((id: string) => boolean)[];
  residual: Predicate<R>[];
  scans: Scan<R>[];
}

/** A condition a scan of index keys answers (every key read, no record decoded), or a test of the record. */
interface Scan<R> {
  ids: () => Sliced<IdSet>;
  test: Predicate<R>;
}

const compiled = <R>(): Compiled<R> => ({ exact: [], idTests: [], residual: [], scans: [] });

/**
 * Reading an index key costs a fraction of decoding a record: a scan of every key beats testing
 * the records of a set only when the set holds more than this fraction of the table.
 */
const KEYS_PER_RECORD = 16;

type Conditions = { operator?: string | null } & Record<string, any>;

/** The conditions an object holds: its non-null fields but `operator`. */
const present = (f: Conditions) => Object.entries(f).filter(([name, value]) => name !== 'operator' && value != null);

/**
 * Whether every condition of an object must hold, so each may narrow on its own: under `and_`,
 * or under `or_` when there is at most one (Prefect's OR of one condition is that condition).
 */
const allMustHold = (f: Conditions, count = present(f).length) => (f.operator ?? 'and_') === 'and_' || count <= 1;

function addResidual<R>(out: Compiled<R>, test: Predicate<R>): void {
  if (test !== always) out.residual.push(test);
}

/** The state, tag and name indexes of flow runs or of task runs, and their records. */
interface RunIndexes<R extends RunRecord> {
  get: (id: string) => R | undefined;
  byState: KeyIndex;
  byStateName: KeyIndex;
  byTag: KeyIndex;
  byName: KeyIndex;
  /** Runs under one first element of `byState`, `byStateName` and `byTag`, from their counters. */
  stateCount: (type: string) => number;
  stateNameCount: (name: string) => number;
  tagCount: (tag: string) => number;
}

/** A counter's value (0 when it was never written). */
const counter = (store: Store) => (name: string) => store.dbs.counters.get(name) ?? 0;

const flowRunIndexes = (store: Store): RunIndexes<FlowRunRecord> => {
  const { dbs } = store;
  const count = counter(store);
  return {
    get: (id) => dbs.flowRuns.get(id),
    byState: dbs.flowRunsByState,
    byStateName: dbs.flowRunsByStateName,
    byTag: dbs.flowRunsByTag,
    byName: dbs.flowRunsByName,
    stateCount: (type) => count(stateCounter(type)),
    stateNameCount: (name) => count(entriesCounter('flowRunsByStateName', name)),
    tagCount: (tag) => count(entriesCounter('flowRunsByTag', tag)),
  };
};

const taskRunIndexes = (store: Store): RunIndexes<TaskRunRecord> => {
  const { dbs } = store;
  const count = counter(store);
  return {
    get: (id) => dbs.taskRuns.get(id),
    byState: dbs.taskRunsByState,
    byStateName: dbs.taskRunsByStateName,
    byTag: dbs.taskRunsByTag,
    byName: dbs.taskRunsByName,
    stateCount: (type) => count(entriesCounter('taskRunsByState', type)),
    stateNameCount: (name) => count(entriesCounter('taskRunsByStateName', name)),
    tagCount: (tag) => count(entriesCounter('taskRunsByTag', tag)),
  };
};

/** The first key elements a run's record puts it under in an index (UnderPrefixes' `has` with many prefixes). */
function firstsFrom<R>(get: (id: string) => R | undefined, first: (r: R) => string | null | string[]) {
  return (id: string) => {
    const run = get(id);
    if (!run) return undefined;
    const value = first(run);
    return value === null ? [] : Array.isArray(value) ? value : [value];
  };
}

const flowRunFirsts = (store: Store, first: (r: FlowRunRecord) => string | null | string[]) => firstsFrom((id) => store.dbs.flowRuns.get(id), first);

/** Runs carrying any of `tags` (one tag: carrying it). */
function runsWithTags<R extends RunRecord>(runs: RunIndexes<R>, tags: string[]): IdSet {
  return new UnderPrefixes(runs.byTag, tags.map(indexString), {
    disjoint: false,
    count: runs.tagCount,
    firstsOf: firstsFrom(runs.get, (r) => r.tags.map(indexString)),
  });
}

/**
 * Runs under any of `firsts` in an index holding one entry per run (`firstOf` the first key
 * element a run's record puts it under), sized by `count` when counters hold the sizes.
 */
function runsUnder<R extends RunRecord>(runs: RunIndexes<R>, index: KeyIndex, firsts: string[], firstOf: (r: R) => string, count?: (first: string) => number): IdSet {
  return new UnderPrefixes(index, firsts, { disjoint: true, count, firstsOf: firstsFrom(runs.get, firstOf) });
}

/** Runs in any of the state types (`''` for none), sized by the per-state counters when there are. */
const runsInStates = <R extends RunRecord>(runs: RunIndexes<R>, types: string[]) =>
  runsUnder(runs, runs.byState, types, (r) => r.state_type ?? '', runs.stateCount);

/** Runs whose state is named any of `names` (a run without a state name matches none). */
const runsInStateNames = <R extends RunRecord>(runs: RunIndexes<R>, names: string[]) =>
  runsUnder(runs, runs.byStateName, names.map(indexString), (r) => stateNameKey(r)[0], runs.stateNameCount);

/** Runs named any of `names`. */
const runsNamed = <R extends RunRecord>(runs: RunIndexes<R>, names: string[]) =>
  runsUnder(runs, runs.byName, names.map(indexString), (r) => indexString(r.name));

/**
 * Runs whose name matches a `like_` pattern, read off the name index's keys: a short name is in
 * its key (`s` + name); a long one is hashed (`h` + SHA-256), so only those runs' records are
 * read. Equal names are adjacent keys and tested once.
 */
function* runsNamedLike<R extends RunRecord>(runs: RunIndexes<R>, pattern: string): Sliced<Set<string>> {
  const matches = like(pattern);
  const ids = new Set<string>();
  let last: string | undefined;
  let lastMatched = false;
  let visited = 0;
  for (const key of runs.byName.getKeys({})) {
    if (++visited % (ROWS_PER_PAUSE * 8) === 0) yield; // keys: a fraction of a record each
    const [name, id] = key as [string, string];
    if (name.startsWith('s')) {
      if (name !== last) {
        last = name;
        lastMatched = matches(name.slice(1));
      }
      if (lastMatched) ids.add(id);
    } else if (matches(runs.get(id)?.name)) ids.add(id);
  }
  return ids;
}

type RunRecord = { id: string; name: string; tags: string[]; state_type: string | null; state_name: string | null };

const TIME_COLUMNS = {
  start_time: { index: 'flowRunsByStartTime', column: (r: FlowRunRecord) => r.start_time },
  expected_start_time: { index: 'flowRunsByExpectedStartTime', column: (r: FlowRunRecord) => r.expected_start_time },
  end_time: { index: 'flowRunsByEndTime', column: (r: FlowRunRecord) => r.end_time },
} as const;

type TimeBounds = { before_?: string | null; after_?: string | null; is_null_?: boolean | null };

/**
 * A flow-run time filter (`before_`/`after_` inclusive, `is_null_`) as ranges of its time index,
 * which holds every run whose time is not null: a range, all of it, or every run outside it.
 */
function compileTimeBounds(
  store: Store,
  field: keyof typeof TIME_COLUMNS,
  sub: TimeBounds,
  out: Compiled<FlowRunRecord>,
  options: ResolveOptions,
): void {
  const { dbs } = store;
  const { index, column } = TIME_COLUMNS[field];
  const range = (low: number | undefined, high: number | undefined) =>
    new InRange(
      dbs[index],
      low,
      high,
      (id) => {
        const run = dbs.flowRuns.get(id);
        return run && column(run);
      },
    );
  const time = (s: string | null | undefined) => (s == null ? undefined : parseDateTime(s));
  if (sub.before_ != null || sub.after_ != null) out.exact.push(range(time(sub.after_), time(sub.before_)));
  if (sub.is_null_ === false) out.exact.push(range(undefined, undefined));
  if (sub.is_null_ === true) out.exact.push(new Without(allFlowRuns(store), range(undefined, undefined)));
}

const allFlowRuns = (store: Store) => new AllIds(store.dbs.flowRuns, () => store.dbs.counters.get('flowRuns') ?? 0);

/** The state types some stored run has (a counter exists for each type ever stored). */
function storedStateTypes(store: Store): string[] {
  const prefix = stateCounter('');
  const types: string[] = [];
  for (const key of store.dbs.counters.getKeys({ start: prefix, end: `${prefix}\uffff` })) {
    types.push((key as string).slice(prefix.length));
  }
  return types;
}

/**
 * Conditions under `or_` (flow runs or task runs alike): each is compiled on its own (`branch`)
 * and the answer is the union of their sets — an index set when no condition needs a record, a
 * scan when some test the records of an index set of their own, and `test` on every record
 * when one would have to read them all. A condition that always holds (an empty object) makes
 * the union every run: no condition at all.
 */
function compileOr<R extends { id: string }>(
  f: Conditions,
  branch: (field: string, sub: unknown, into: Compiled<R>) => void,
  test: Predicate<R>,
  table: Table<R>,
  out: Compiled<R>,
  options: ResolveOptions,
): void {
  const branches = present(f).map(([field, sub]) => {
    const into = compiled<R>();
    branch(field, sub, into);
    return into;
  });
  if (branches.some((b) => b.residual.length > 0 && b.exact.length === 0)) return addResidual(out, test);
  if (branches.some((b) => b.exact.length + b.idTests.length + b.residual.length + b.scans.length === 0)) return;
  const union = () => unite(branches.map((b) => toEnd(resolveSide(b, table, options))), options.buildAtMost);
  if (branches.every((b) => b.residual.length === 0)) out.exact.push(union());
  else out.scans.push({ ids: function* () { return union(); }, test });
}

/**
 * The `flow_runs` filter's conditions, split into index sets, id tests, scans and residual
 * tests. Under `or_`, each condition is resolved on its own and the answer is their union: an
 * index set when no condition needs a record; when some do (each on the records of an index
 * set of its own), a scan, so that a small set elsewhere in the query has its records tested
 * instead; and when one would have to test every run's record, a test of every record.
 */
function compileFlowRuns(
  store: Store,
  f: FlowRunFilter,
  ctx: FilterContext,
  out: Compiled<FlowRunRecord>,
  options: ResolveOptions = {},
): void {
  const { dbs } = store;
  if (!allMustHold(f)) {
    const branch = (field: string, sub: unknown, into: Compiled<FlowRunRecord>) =>
      compileFlowRuns(store, { [field]: sub } as FlowRunFilter, ctx, into, options);
    return compileOr(f, branch, compileFlowRunFilter(f, ctx), flowRunTable(store), out, options);
  }
  for (const [field, sub] of present(f)) {
    const rest = (part: object) => addResidual(out, compileFlowRunFilter({ [field]: part } as FlowRunFilter, ctx));
    switch (field) {
      case 'id': {
        if (sub.any_ != null) out.exact.push(new Set((sub.any_ as string[]).filter((id) => dbs.flowRuns.doesExist(id))));
        if (sub.not_any_ != null && sub.not_any_.length > 0) {
          const excluded = new Set(sub.not_any_ as string[]);
          out.idTests.push((id) => !excluded.has(id));
        }
        break;
      }
      case 'tags': {
        if (!allMustHold(sub)) {
          rest(sub);
          break;
        }
        // all_: a set per tag, intersected; any_: one set of the union ([] matches nothing).
        if (sub.all_ != null) for (const tag of new Set(sub.all_ as string[])) out.exact.push(runsWithTags(flowRunIndexes(store), [tag]));
        if (sub.any_ != null) out.exact.push(runsWithTags(flowRunIndexes(store), sub.any_));
        if (sub.is_null_ != null) rest({ is_null_: sub.is_null_ });
        break;
      }
      case 'deployment_id':
      case 'parent_task_run_id': {
        if (!allMustHold(sub)) {
          rest(sub);
          break;
        }
        if (sub.any_ != null) {
          const [index, column, count] =
            field === 'deployment_id'
              ? [dbs.flowRunsByDeployment, (r: FlowRunRecord) => r.deployment_id, (id: string) => counter(store)(deploymentCounter(id))]
              : [dbs.flowRunsByParentTask, (r: FlowRunRecord) => r.parent_task_run_id, undefined];
          out.exact.push(new UnderPrefixes(index, sub.any_, { disjoint: true, count, firstsOf: flowRunFirsts(store, column) }));
        }
        if (sub.is_null_ != null) rest({ is_null_: sub.is_null_ });
        break;
      }
      case 'state': {
        // The state object's operator joins its leaves flattened across `type` and `name`.
        const leaves = [sub.type?.any_, sub.type?.not_any_, sub.name?.any_, sub.name?.not_any_].filter((v) => v != null).length;
        if (!allMustHold(sub, leaves)) {
          rest(sub);
          break;
        }
        if (sub.type?.any_ != null) out.exact.push(runsInStates(flowRunIndexes(store), sub.type.any_));
        if (sub.type?.not_any_ != null && sub.type.not_any_.length > 0) {
          // A run without a state never matches not_any_; every other stored type does unless listed.
          const excluded = new Set<string>(sub.type.not_any_);
          out.exact.push(runsInStates(flowRunIndexes(store), storedStateTypes(store).filter((type) => type !== '' && !excluded.has(type))));
        }
        if (sub.name?.any_ != null) out.exact.push(runsInStateNames(flowRunIndexes(store), sub.name.any_));
        if (sub.name?.not_any_ != null) rest({ name: { not_any_: sub.name.not_any_ } });
        break;
      }
      case 'name': {
        if (sub.any_ != null) out.exact.push(runsNamed(flowRunIndexes(store), sub.any_));
        if (sub.like_ != null) {
          const pattern = sub.like_ as string;
          out.scans.push({ ids: () => runsNamedLike(flowRunIndexes(store), pattern), test: compileFlowRunFilter({ name: { like_: pattern } }, ctx) });
        }
        break;
      }
      case 'start_time':
      case 'expected_start_time':
      case 'end_time':
        compileTimeBounds(store, field, sub, out, options);
        break;
      case 'parent_flow_run_id': {
        // Sub-flow runs of the listed runs: those runs' task runs, then the runs they started.
        if (sub.any_ == null) break;
        const ids = new Set<string>();
        for (const parent of new Set(sub.any_ as string[])) {
          for (const task of taskRunIdsOfFlowRun(dbs, parent)) for (const id of subflowRunIds(dbs, task)) ids.add(id);
        }
        out.exact.push(ids);
        break;
      }
      default:
        rest(sub);
    }
  }
}

/**
 * Flow runs whose flow exists and matches `flows`: the matching flows read from the (small)
 * flows table, then their runs from `flowRuns.byFlow`.
 */
function runsOfFlows(store: Store, f: FlowFilter, ctx: FilterContext): IdSet {
  const { dbs } = store;
  const matches = compileFlowFilter(f, ctx);
  let candidates: Iterable<FlowRecord>;
  if (allMustHold(f) && f.id?.any_ != null) candidates = defined(f.id.any_.map((id) => dbs.flows.get(id)));
  else if (allMustHold(f) && f.name?.any_ != null) {
    candidates = defined(f.name.any_.map((name) => dbs.flowsByName.get(indexString(name))).map((id) => (id === undefined ? undefined : dbs.flows.get(id))));
  } else candidates = dbs.flows.getRange({}).map(({ value }) => value);
  const ids = new Set<string>();
  for (const flow of candidates) if (matches(flow)) ids.add(flow.id);
  return new UnderPrefixes(dbs.flowRunsByFlow, ids, {
    disjoint: true,
    count: (flowId) => counter(store)(flowCounter(flowId)),
    firstsOf: flowRunFirsts(store, (r) => r.flow_id),
  });
}

/**
 * Flow runs whose deployment exists and matches `deployments`: matching deployments from their
 * table, then their runs from `flowRuns.byDeployment` (a run naming a deleted deployment is
 * under no stored one).
 */
function runsOfDeployments(store: Store, f: DeploymentFilter, ctx: FilterContext): IdSet {
  const { dbs } = store;
  const matches = compileDeploymentFilter(f, ctx);
  const candidates: Iterable<DeploymentRecord> =
    allMustHold(f) && f.id?.any_ != null
      ? defined(f.id.any_.map((id) => dbs.deployments.get(id)))
      : dbs.deployments.getRange({}).map(({ value }) => value);
  const ids = new Set<string>();
  for (const deployment of candidates) if (matches(deployment)) ids.add(deployment.id);
  return new UnderPrefixes(dbs.flowRunsByDeployment, ids, {
    disjoint: true,
    count: (deploymentId) => counter(store)(deploymentCounter(deploymentId)),
    firstsOf: flowRunFirsts(store, (r) => r.deployment_id),
  });
}

const defined = <T>(items: (T | undefined)[]) => items.filter((item): item is T => item !== undefined);

/**
 * The `task_runs` filter's conditions, split as the flow runs' are: ids, flow run ids, state
 * types and names, tags and names from indexes, sub-flow runs by an id test, the rest on records; `or_`
 * the union of its conditions' sets, as `compileFlowRuns`.
 */
function compileTaskRuns(store: Store, f: TaskRunFilter, ctx: FilterContext, out: Compiled<TaskRunRecord>, options: ResolveOptions = {}): void {
  const { dbs } = store;
  if (!allMustHold(f)) {
    const branch = (field: string, sub: unknown, into: Compiled<TaskRunRecord>) =>
      compileTaskRuns(store, { [field]: sub } as TaskRunFilter, ctx, into, options);
    return compileOr(f, branch, compileTaskRunFilter(f, ctx), taskRunTable(store), out, options);
  }
  const runs = taskRunIndexes(store);
  const byFlowRun = (firsts: string[]) =>
    new UnderPrefixes(dbs.taskRunsByFlowRun, firsts, {
      disjoint: true,
      firstsOf: (id) => {
        const task = dbs.taskRuns.get(id);
        return task && [task.flow_run_id ?? ''];
      },
    });
  for (const [field, sub] of present(f)) {
    const rest = (part: object) => addResidual(out, compileTaskRunFilter({ [field]: part } as TaskRunFilter, ctx));
    switch (field) {
      case 'id':
        if (sub.any_ != null) out.exact.push(new Set((sub.any_ as string[]).filter((id) => dbs.taskRuns.doesExist(id))));
        break;
      case 'flow_run_id': {
        // Prefect's decision table (filters/runs.ts): is_null_ defaults to false, true wins over any_.
        const isNullFlag = sub.is_null_ === undefined ? false : sub.is_null_;
        if (isNullFlag === true) out.exact.push(byFlowRun(['']));
        else if (sub.any_ != null) out.exact.push(byFlowRun((sub.any_ as string[]).filter((id) => id !== '')));
        else if (isNullFlag === false) out.idTests.push((id) => !dbs.taskRunsByFlowRun.doesExist(['', id]));
        break;
      }
      case 'subflow_runs':
        if (sub.exists_ != null) {
          const exists = sub.exists_ as boolean;
          out.idTests.push((id) => ctx.hasSubflowRuns(id) === exists);
        }
        break;
      case 'tags': {
        if (!allMustHold(sub)) {
          rest(sub);
          break;
        }
        if (sub.all_ != null) for (const tag of new Set(sub.all_ as string[])) out.exact.push(runsWithTags(runs, [tag]));
        if (sub.any_ != null) out.exact.push(runsWithTags(runs, sub.any_));
        if (sub.is_null_ != null) rest({ is_null_: sub.is_null_ });
        break;
      }
      case 'state': {
        // Flattened across `type` and `name`, as the flow runs' (Prefect 3.0.0 has only any_ on each).
        const leaves = [sub.type?.any_, sub.type?.not_any_, sub.name?.any_, sub.name?.not_any_].filter((v) => v != null).length;
        if (!allMustHold(sub, leaves)) {
          rest(sub);
          break;
        }
        if (sub.type?.any_ != null) out.exact.push(runsInStates(runs, sub.type.any_));
        if (sub.type?.not_any_ != null) rest({ type: { not_any_: sub.type.not_any_ } });
        if (sub.name?.any_ != null) out.exact.push(runsInStateNames(runs, sub.name.any_));
        if (sub.name?.not_any_ != null) rest({ name: { not_any_: sub.name.not_any_ } });
        break;
      }
      case 'name': {
        if (sub.any_ != null) out.exact.push(runsNamed(runs, sub.any_));
        if (sub.like_ != null) {
          const pattern = sub.like_ as string;
          out.scans.push({ ids: () => runsNamedLike(runs, pattern), test: compileTaskRunFilter({ name: { like_: pattern } }, ctx) });
        }
        break;
      }
      default:
        rest(sub);
    }
  }
}

/**
 * The ids of one side's records that meet every condition. Scans first become index sets
 * (their keys read), or residual tests when an index set is small enough that testing its
 * records costs less. Without residual tests, the intersection of the index sets (all records
 * when there is none), lazy when large: no record is decoded. With residual tests, the records
 * of the smallest index set (or of the whole table) that pass the other sets, the id tests and
 * the residual.
 */
function* resolveSide<R extends { id: string }>(c: Compiled<R>, table: Table<R>, options: ResolveOptions): Sliced<IdSet> {
  if (c.scans.length > 0) {
    const smallest = c.exact.reduce((n, set) => Math.min(n, set.size), Infinity);
    if (smallest * KEYS_PER_RECORD < table.all().size) {
      c = { ...c, residual: [...c.residual, ...c.scans.map((s) => s.test)], scans: [] };
    } else if (options.lazyScans) {
      const tested = c.scans.map(
        (scan) =>
          new Tested(
            (id) => {
              const record = table.get(id);
              return record !== undefined && scan.test(record);
            },
            scan.ids,
            () => table.all().size,
          ),
      );
      c = { ...c, exact: [...c.exact, ...tested], scans: [] };
    } else {
      const scanned: IdSet[] = [];
      for (const scan of c.scans) scanned.push(yield* scan.ids());
      c = { ...c, exact: [...c.exact, ...scanned], scans: [] };
    }
  }
  if (c.residual.length === 0) return intersect(c.exact.length > 0 ? c.exact : [table.all()], c.idTests, options.buildAtMost);
  const test = combine(c.residual);
  const passes = (id: string, others: IdSet[]) => others.every((set) => set.has(id)) && c.idTests.every((t) => t(id));
  const ids = new Set<string>();
  // Testing records is the long part: pause points let the server answer others meanwhile.
  let visited = 0;
  if (c.exact.length === 0) {
    for (const record of table.records()) {
      if (++visited % ROWS_PER_PAUSE === 0) yield;
      if (passes(record.id, []) && test(record)) ids.add(record.id);
    }
    return ids;
  }
  const [smallest, ...others] = bySize(c.exact);
  for (const id of smallest) {
    if (++visited % ROWS_PER_PAUSE === 0) yield;
    if (!passes(id, others)) continue;
    const record = table.get(id);
    if (record && test(record)) ids.add(id);
  }
  return ids;
}

interface Table<R> {
  all: () => IdSet;
  get: (id: string) => R | undefined;
  records: () => Iterable<R>;
}

const flowRunTable = (store: Store): Table<FlowRunRecord> => ({
  all: () => allFlowRuns(store),
  get: (id) => store.dbs.flowRuns.get(id),
  records: () => store.flowRuns.all(),
});

/** The flow runs that match the flow-run side (`flowRunSide`), resolved through indexes. */
function resolveFlowRunIds(store: Store, filters: RunFilters, ctx: FilterContext, options: ResolveOptions): Sliced<IdSet> {
  const out = compiled<FlowRunRecord>();
  if (filters.flow_runs) compileFlowRuns(store, filters.flow_runs, ctx, out, options);
  if (filters.flows) out.exact.push(runsOfFlows(store, filters.flows, ctx));
  if (filters.deployments) out.exact.push(runsOfDeployments(store, filters.deployments, ctx));
  return resolveSide(out, flowRunTable(store), options);
}

const taskRunTable = (store: Store): Table<TaskRunRecord> => ({
  all: () => new AllIds(store.dbs.taskRuns, () => store.dbs.counters.get('taskRuns') ?? 0),
  get: (id) => store.dbs.taskRuns.get(id),
  records: () => store.taskRuns.all(),
});

/** The task runs that match `task_runs`, resolved through indexes. */
function resolveTaskRunIds(store: Store, f: TaskRunFilter, ctx: FilterContext, options: ResolveOptions): Sliced<IdSet> {
  const out = compiled<TaskRunRecord>();
  compileTaskRuns(store, f, ctx, out, options);
  return resolveSide(out, taskRunTable(store), options);
}

export interface ResolveOptions {
  /**
   * For a page: a condition only a scan answers (a name `like_`) becomes a set that tests each
   * run it is asked about (`Tested`), so that a short page need not scan first. A count, which
   * asks about every run anyway, scans.
   */
  lazyScans?: boolean;
  /** A lazy intersection (or union) of index sets that holds at most this many ids is built as a Set. */
  buildAtMost?: number;
}

/**
 * The run ids each side's filters allow (`flowRunSide` and `task_runs`), from indexes: each
 * ANDed condition an index answers exactly becomes a set, the others are tested on the records
 * of the smallest such set only (see `resolveSide`). Sets may be lazy (see `id-sets.ts`).
 */
export function* resolveRunSetsSliced(store: Store, filters: RunFilters, options: ResolveOptions = {}): Sliced<RunSets> {
  const sets: RunSets = {};
  const ctx = filterContext(store);
  if (filters.flow_runs || filters.flows || filters.deployments) sets.flowRunIds = yield* resolveFlowRunIds(store, filters, ctx, options);
  if (filters.task_runs) sets.taskRunIds = yield* resolveTaskRunIds(store, filters.task_runs, ctx, options);
  return sets;
}

/** `resolveRunSetsSliced` run to its end at once (commands, tests). */
export function resolveRunSets(store: Store, filters: RunFilters, options: ResolveOptions = {}): RunSets {
  return toEnd(resolveRunSetsSliced(store, filters, options));
}
