/**
 * Row-level writes for flows, flow runs, task runs and deployments: each puts or removes a record
 * with every index entry that points at it, and removals cascade as Prefect's foreign keys do
 * (`shared/spec/companions.md`, storage relationships). Call only inside a write transaction.
 */
import type { Key } from 'lmdb';
import type { StoreDbs } from './env.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../companion-records.ts';
import { indexString } from '../index-keys.ts';
import { typeKey } from './keys.ts';
import type { UpgradeStep } from './upgrade.ts';

const EMPTY = Buffer.alloc(0);

/**
 * Run indexes whose entries are counted per first key element (layout version 10): a tag's,
 * state's or state name's runs are then sized by one counter read instead of counting the
 * index's range, which reads every entry (~1 ms for 33k runs, once per query).
 */
export const COUNTED_RUN_INDEXES = ['flowRunsByTag', 'flowRunsByStateName', 'taskRunsByTag', 'taskRunsByState', 'taskRunsByStateName'] as const;
export type CountedRunIndex = (typeof COUNTED_RUN_INDEXES)[number];

/** The counter of `index`'s entries under `first`. */
export const entriesCounter = (index: CountedRunIndex, first: string) => `${index}:${first}`;

/** Puts (or, with `remove`, deletes) an entry of a counted index, keeping its counter. */
function putCounted(dbs: StoreDbs, index: CountedRunIndex, key: Key[], remove = false): void {
  if (remove) dbs[index].remove(key);
  else dbs[index].put(key, EMPTY);
  bump(dbs, entriesCounter(index, key[0] as string), remove ? -1 : 1);
}

/**
 * Layout version 10: the counters of the counted run indexes, counted from their keys (any
 * counter left by a partial build dropped first).
 */
export const RUN_INDEX_COUNTERS: UpgradeStep = {
  version: 10,
  adds: 'counters of runs per tag, state and state name',
  build(dbs) {
    recountEntries(dbs, COUNTED_RUN_INDEXES);
  },
};

/**
 * Sets the counters of `indexes` from their keys: what version 10 builds, and what an earlier
 * step that rebuilds one of these indexes from scratch redoes.
 */
function recountEntries(dbs: StoreDbs, indexes: readonly CountedRunIndex[]): void {
  for (const index of indexes) countFirstElements(dbs, dbs[index], entriesCounter(index, ''));
}

/** How many times each name occurs. */
export function tally(names: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/**
 * Sets the counters `prefix` + first key element to the number of an index's keys under each
 * first element, dropping every other counter under `prefix` (an upgrade step's recount).
 */
export function countFirstElements(dbs: StoreDbs, index: { getKeys(options: object): Iterable<Key> }, prefix: string): void {
  for (const name of countersUnder(dbs, prefix)) dbs.counters.remove(name);
  const counts = tally(mapKeys(index.getKeys({}), (key) => prefix + (key as string[])[0]));
  for (const [name, n] of counts) dbs.counters.put(name, n);
}

function* mapKeys<T>(keys: Iterable<Key>, f: (key: Key) => T): Iterable<T> {
  for (const key of keys) yield f(key);
}

/** The last element of every index key under `[first, …]`: walked until the first element changes. */
function idsUnder(index: StoreDbs['flowRunsByFlow'], first: string): string[] {
  const ids: string[] = [];
  for (const key of index.getKeys({ start: [first] })) {
    const parts = key as string[];
    if (parts[0] !== first) break;
    ids.push(parts[parts.length - 1]);
  }
  return ids;
}

export function bump(dbs: StoreDbs, counter: string, delta: number): void {
  if (pendingCounters !== null) pendingCounters.set(counter, (pendingCounters.get(counter) ?? 0) + delta);
  else dbs.counters.put(counter, (dbs.counters.get(counter) ?? 0) + delta);
}

/** The counter changes `countersOnce` is collecting, if it runs. */
let pendingCounters: Map<string, number> | null = null;

/**
 * Runs `work` (inside a write transaction) with its counter changes summed and written once at
 * its end: a batch of task-run events moves the same few state counters up and down once per
 * event, and each change is a read and a write. `work` must not read a counter it changes.
 * Writes run synchronously, one at a time, so one collection at a time is all there is.
 */
export function countersOnce<T>(dbs: StoreDbs, work: () => T): T {
  if (pendingCounters !== null) return work();
  const pending = (pendingCounters = new Map());
  try {
    const result = work();
    pendingCounters = null;
    for (const [name, delta] of pending) if (delta !== 0) bump(dbs, name, delta);
    return result;
  } finally {
    pendingCounters = null;
  }
}

// ── flows ──────────────────────────────────────────────────────────────────────────────────

export function putFlow(dbs: StoreDbs, flow: FlowRecord, isNew: boolean): void {
  dbs.flows.put(flow.id, flow);
  if (isNew) {
    dbs.flowsByName.put(indexString(flow.name), flow.id);
    bump(dbs, 'flows', 1);
  }
}

/** Deletes a flow with its deployments, its flow runs and their task runs. */
export function removeFlow(dbs: StoreDbs, flow: FlowRecord): void {
  for (const id of deploymentIdsOfFlow(dbs, flow.id)) removeDeployment(dbs, dbs.deployments.get(id)!);
  for (const id of idsUnder(dbs.flowRunsByFlow, flow.id)) removeFlowRun(dbs, dbs.flowRuns.get(id)!);
  dbs.flows.remove(flow.id);
  dbs.flowsByName.remove(indexString(flow.name));
  bump(dbs, 'flows', -1);
}

// ── flow runs ──────────────────────────────────────────────────────────────────────────────

function flowRunIndexKeys(r: FlowRunRecord) {
  return {
    byFlow: [r.flow_id, r.id],
    byDeployment: r.deployment_id === null ? undefined : [r.deployment_id, r.id],
    byParentTask: r.parent_task_run_id === null ? undefined : [r.parent_task_run_id, r.id],
    byIdempotencyKey: r.idempotency_key === null ? undefined : idempotencyKey(r.flow_id, r.idempotency_key),
    byState: [r.state_type ?? '', r.id],
    byStateName: stateNameKey(r),
    byTag: flowRunTagKeys(r),
    ...flowRunTimeNameKeys(r),
  };
}

/**
 * `flowRuns.byStartTime`, `byExpectedStartTime`, `byEndTime` and `byName` keys of a run (layout
 * version 4): a time range or a name is then a range of keys, no record read. A null time has
 * no entry.
 */
export const flowRunTimeNameKeys = (r: Pick<FlowRunRecord, 'id' | 'name' | 'start_time' | 'expected_start_time' | 'end_time'>) => ({
  byStartTime: r.start_time === null ? undefined : [r.start_time, r.id],
  byExpectedStartTime: r.expected_start_time === null ? undefined : [r.expected_start_time, r.id],
  byEndTime: r.end_time === null ? undefined : [r.end_time, r.id],
  byName: [indexString(r.name), r.id],
});

type TimeNameKeys = ReturnType<typeof flowRunTimeNameKeys>;

const sameKey = (a: Key[] | undefined, b: Key[] | undefined) => a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1];

/**
 * Writes (or, with `remove`, deletes) a run's version-4 index entries, but those equal in
 * `other` (the run's other version, when a write replaces one): a state change moves one or two
 * of its times and keeps its name.
 */
function putTimeNameKeys(dbs: StoreDbs, keys: TimeNameKeys, remove = false, other?: TimeNameKeys): void {
  const entries: [StoreDbs['flowRunsByName'], keyof TimeNameKeys][] = [
    [dbs.flowRunsByStartTime, 'byStartTime'],
    [dbs.flowRunsByExpectedStartTime, 'byExpectedStartTime'],
    [dbs.flowRunsByEndTime, 'byEndTime'],
    [dbs.flowRunsByName, 'byName'],
  ];
  for (const [index, name] of entries) {
    const key = keys[name];
    if (key === undefined || sameKey(key, other?.[name])) continue;
    if (remove) index.remove(key);
    else index.put(key, EMPTY);
  }
}

/** `flowRuns.byTag` keys of a run: one per distinct tag (a run may list a tag twice). */
const flowRunTagKeys = (r: Pick<FlowRunRecord, 'id' | 'tags'>) => [...new Set(r.tags)].map((tag) => [indexString(tag), r.id]);

/**
 * `flowRuns.byStateName` and `taskRuns.byStateName` key of a run (layout version 7): its state
 * name through `indexString`, NULL as "" (which `indexString` never returns), as `typeKey` does.
 */
export const stateNameKey = (r: Pick<FlowRunRecord, 'id' | 'state_name'>) => [typeKey(r.state_name), r.id];

/** Writes a flow run, moving its index entries from `old` when it replaces one. */
export function putFlowRun(dbs: StoreDbs, run: FlowRunRecord, old?: FlowRunRecord): void {
  if (old) unindexFlowRun(dbs, old, run);
  else bump(dbs, 'flowRuns', 1);
  dbs.flowRuns.put(run.id, run);
  const keys = flowRunIndexKeys(run);
  dbs.flowRunsByFlow.put(keys.byFlow, EMPTY);
  if (keys.byDeployment) dbs.flowRunsByDeployment.put(keys.byDeployment, EMPTY);
  if (keys.byParentTask) dbs.flowRunsByParentTask.put(keys.byParentTask, EMPTY);
  if (keys.byIdempotencyKey) dbs.flowRunsByIdempotencyKey.put(keys.byIdempotencyKey, run.id);
  dbs.flowRunsByState.put(keys.byState, EMPTY);
  putCounted(dbs, 'flowRunsByStateName', keys.byStateName);
  for (const key of keys.byTag) putCounted(dbs, 'flowRunsByTag', key);
  putTimeNameKeys(dbs, keys, false, old && flowRunTimeNameKeys(old));
  bump(dbs, stateCounter(run.state_type), 1);
  bumpOwners(dbs, run, 1);
}

/** Runs per state type, so the planner can size a state filter without reading the index. */
export const stateCounter = (stateType: string | null) => `flowRuns.state:${stateType ?? ''}`;

/**
 * Runs per flow and per deployment (layout version 8), for the same reason: counting a flow's
 * runs in `flowRuns.byFlow` reads every entry (~4 ms for 60k runs), once per query.
 */
export const flowCounter = (flowId: string) => `flowRuns.flow:${flowId}`;
export const deploymentCounter = (deploymentId: string) => `flowRuns.deployment:${deploymentId}`;

function bumpOwners(dbs: StoreDbs, run: FlowRunRecord, delta: number): void {
  bump(dbs, flowCounter(run.flow_id), delta);
  if (run.deployment_id !== null) bump(dbs, deploymentCounter(run.deployment_id), delta);
}

/** Removes a run's index entries (but the version-4 ones `next`, its replacement, keeps). */
function unindexFlowRun(dbs: StoreDbs, run: FlowRunRecord, next?: FlowRunRecord): void {
  const keys = flowRunIndexKeys(run);
  dbs.flowRunsByFlow.remove(keys.byFlow);
  if (keys.byDeployment) dbs.flowRunsByDeployment.remove(keys.byDeployment);
  if (keys.byParentTask) dbs.flowRunsByParentTask.remove(keys.byParentTask);
  if (keys.byIdempotencyKey) dbs.flowRunsByIdempotencyKey.remove(keys.byIdempotencyKey);
  dbs.flowRunsByState.remove(keys.byState);
  putCounted(dbs, 'flowRunsByStateName', keys.byStateName, true);
  for (const key of keys.byTag) putCounted(dbs, 'flowRunsByTag', key, true);
  putTimeNameKeys(dbs, keys, true, next && flowRunTimeNameKeys(next));
  bump(dbs, stateCounter(run.state_type), -1);
  bumpOwners(dbs, run, -1);
}

/** Deletes a flow run and its task runs (artifacts are never deleted with runs). */
export function removeFlowRun(dbs: StoreDbs, run: FlowRunRecord): void {
  for (const id of idsUnder(dbs.taskRunsByFlowRun, run.id)) removeTaskRun(dbs, dbs.taskRuns.get(id)!);
  unindexFlowRun(dbs, run);
  dbs.flowRuns.remove(run.id);
  bump(dbs, 'flowRuns', -1);
}

export const flowRunIdsOfFlow = (dbs: StoreDbs, flowId: string) => idsUnder(dbs.flowRunsByFlow, flowId);
export const flowRunIdsOfDeployment = (dbs: StoreDbs, deploymentId: string) => idsUnder(dbs.flowRunsByDeployment, deploymentId);
export const subflowRunIds = (dbs: StoreDbs, taskRunId: string) => idsUnder(dbs.flowRunsByParentTask, taskRunId);

/**
 * Layout version 2 adds `flowRuns.byTag`. Built from the runs already stored: whatever the
 * index holds is dropped first, so a rerun over any partial state ends the same.
 */
export const FLOW_RUN_TAG_INDEX: UpgradeStep = {
  version: 2,
  adds: 'flow runs by tag',
  build(dbs) {
    for (const key of [...dbs.flowRunsByTag.getKeys({})]) dbs.flowRunsByTag.remove(key);
    for (const { value: run } of dbs.flowRuns.getRange({})) {
      for (const key of flowRunTagKeys(run)) dbs.flowRunsByTag.put(key, EMPTY);
    }
    recountEntries(dbs, ['flowRunsByTag']);
  },
};

/**
 * Layout version 4 adds `flowRuns.byStartTime`, `byExpectedStartTime`, `byEndTime` and
 * `byName`, built from the runs already stored (each emptied first, so a rerun ends the same).
 */
export const FLOW_RUN_TIME_NAME_INDEXES: UpgradeStep = {
  version: 4,
  adds: 'flow runs by start, expected start and end time, and by name',
  build(dbs) {
    for (const index of [dbs.flowRunsByStartTime, dbs.flowRunsByExpectedStartTime, dbs.flowRunsByEndTime, dbs.flowRunsByName]) {
      for (const key of [...index.getKeys({})]) index.remove(key);
    }
    for (const { value: run } of dbs.flowRuns.getRange({})) putTimeNameKeys(dbs, flowRunTimeNameKeys(run));
  },
};

// ── task runs ──────────────────────────────────────────────────────────────────────────────

export const idempotencyKey = (flowId: string, key: string) => [flowId, indexString(key)];

const taskKeys = (t: Pick<TaskRunRecord, 'flow_run_id' | 'task_key' | 'dynamic_key'>) => [
  t.flow_run_id ?? '',
  indexString(t.task_key),
  indexString(t.dynamic_key),
];

export function taskRunIdByKeys(dbs: StoreDbs, keys: Pick<TaskRunRecord, 'flow_run_id' | 'task_key' | 'dynamic_key'>) {
  return dbs.taskRunsByKeys.get(taskKeys(keys));
}

/**
 * `taskRuns.byState`, `byTag` (one per distinct tag) and `byName` keys of a task run (layout
 * version 6): a state, tag or name condition is then a set of keys, no record read.
 */
export const taskRunQueryKeys = (t: Pick<TaskRunRecord, 'id' | 'name' | 'tags' | 'state_type'>) => ({
  byState: [t.state_type ?? '', t.id],
  byTag: [...new Set(t.tags)].map((tag) => [indexString(tag), t.id]),
  byName: [indexString(t.name), t.id],
});

/**
 * Writes (or, with `remove`, deletes) a task run's version-6 index entries, but those equal in
 * `other` (the run's other version, when a write replaces one): a state change moves its state
 * entry and keeps its name and tags.
 */
function putTaskRunQueryKeys(dbs: StoreDbs, t: TaskRunRecord, remove = false, other?: TaskRunRecord): void {
  const keys = taskRunQueryKeys(t);
  const others = other && taskRunQueryKeys(other);
  if (!sameKey(keys.byName, others?.byName)) {
    if (remove) dbs.taskRunsByName.remove(keys.byName);
    else dbs.taskRunsByName.put(keys.byName, EMPTY);
  }
  if (!sameKey(keys.byState, others?.byState)) putCounted(dbs, 'taskRunsByState', keys.byState, remove);
  const otherTags = new Set(others?.byTag.map((key) => key[0]));
  for (const key of keys.byTag) if (!otherTags.has(key[0])) putCounted(dbs, 'taskRunsByTag', key, remove);
}

/** Writes (or deletes) a task run's state-name entry (layout version 7), unless `other`'s is the same. */
function putTaskRunStateName(dbs: StoreDbs, t: TaskRunRecord, remove = false, other?: TaskRunRecord): void {
  const key = stateNameKey(t);
  if (!sameKey(key, other && stateNameKey(other))) putCounted(dbs, 'taskRunsByStateName', key, remove);
}

/**
 * Writes a task run with its index entries, moving those of the version it replaces (`old`, read
 * here unless the caller has it) that change, including its flow run and (task key, dynamic key)
 * entries, which a `prefect.task-run.*` event may change (observedTaskRun); the caller has checked
 * that the new keys belong to no other run.
 */
export function putTaskRun(dbs: StoreDbs, task: TaskRunRecord, isNew: boolean, old = isNew ? undefined : dbs.taskRuns.get(task.id)): void {
  dbs.taskRuns.put(task.id, task);
  if (!old) {
    putTaskRunQueryKeys(dbs, task);
    putTaskRunStateName(dbs, task);
    dbs.taskRunsByFlowRun.put([task.flow_run_id ?? '', task.id], EMPTY);
    dbs.taskRunsByKeys.put(taskKeys(task), task.id);
    bump(dbs, 'taskRuns', 1);
    return;
  }
  putTaskRunQueryKeys(dbs, old, true, task);
  putTaskRunQueryKeys(dbs, task, false, old);
  putTaskRunStateName(dbs, old, true, task);
  putTaskRunStateName(dbs, task, false, old);
  if (old.flow_run_id !== task.flow_run_id) {
    dbs.taskRunsByFlowRun.remove([old.flow_run_id ?? '', old.id]);
    dbs.taskRunsByFlowRun.put([task.flow_run_id ?? '', task.id], EMPTY);
  }
  if (!sameTaskKeys(old, task)) {
    dbs.taskRunsByKeys.remove(taskKeys(old));
    dbs.taskRunsByKeys.put(taskKeys(task), task.id);
  }
}

/** Whether two versions of a task run have the same (flow run, task key, dynamic key). */
export const sameTaskKeys = (a: TaskRunRecord, b: TaskRunRecord) => a.flow_run_id === b.flow_run_id && a.task_key === b.task_key && a.dynamic_key === b.dynamic_key;

/** Deletes a task run; sub-flow runs it started keep running with no parent task run. */
export function removeTaskRun(dbs: StoreDbs, task: TaskRunRecord): void {
  for (const id of subflowRunIds(dbs, task.id)) {
    const sub = dbs.flowRuns.get(id)!;
    putFlowRun(dbs, { ...sub, parent_task_run_id: null }, sub);
  }
  dbs.taskRuns.remove(task.id);
  putTaskRunQueryKeys(dbs, task, true);
  putTaskRunStateName(dbs, task, true);
  dbs.taskRunsByFlowRun.remove([task.flow_run_id ?? '', task.id]);
  dbs.taskRunsByKeys.remove(taskKeys(task));
  bump(dbs, 'taskRuns', -1);
}

export const taskRunIdsOfFlowRun = (dbs: StoreDbs, flowRunId: string) => idsUnder(dbs.taskRunsByFlowRun, flowRunId);

/**
 * Layout version 6 adds `taskRuns.byState`, `byTag` and `byName`, built from the task runs
 * already stored (each emptied first, so a rerun over any partial state ends the same).
 */
export const TASK_RUN_QUERY_INDEXES: UpgradeStep = {
  version: 6,
  adds: 'task runs by state, tag and name',
  build(dbs) {
    for (const index of [dbs.taskRunsByState, dbs.taskRunsByTag, dbs.taskRunsByName]) {
      for (const key of [...index.getKeys({})]) index.remove(key);
    }
    for (const { value: task } of dbs.taskRuns.getRange({})) putTaskRunQueryKeys(dbs, task);
    recountEntries(dbs, ['taskRunsByState', 'taskRunsByTag']);
  },
};

/**
 * Layout version 11 writes task runs with shared msgpack structures (the field names of a record
 * shape kept once in the table instead of in every record): the task-run recorder reads and
 * rewrites a run for each of its events, and a run decodes about four times as fast. Records
 * written before still read as they are, so nothing is rebuilt; the version is there so that an
 * older build, which cannot decode the new records, refuses the store instead of misreading it.
 */
export const TASK_RUN_STRUCTURES: UpgradeStep = {
  version: 11,
  adds: 'task runs in shared structures',
  build() {},
};

/**
 * Layout version 7 adds `flowRuns.byStateName` and `taskRuns.byStateName`, built from the runs
 * already stored (each emptied first, so a rerun over any partial state ends the same).
 */
export const RUN_STATE_NAME_INDEXES: UpgradeStep = {
  version: 7,
  adds: 'flow runs and task runs by state name',
  build(dbs) {
    for (const index of [dbs.flowRunsByStateName, dbs.taskRunsByStateName]) {
      for (const key of [...index.getKeys({})]) index.remove(key);
    }
    for (const { value: run } of dbs.flowRuns.getRange({})) dbs.flowRunsByStateName.put(stateNameKey(run), EMPTY);
    for (const { value: task } of dbs.taskRuns.getRange({})) dbs.taskRunsByStateName.put(stateNameKey(task), EMPTY);
    recountEntries(dbs, ['flowRunsByStateName', 'taskRunsByStateName']);
  },
};

/** The counters under a prefix (`flowRuns.flow:`, …), as names. */
export function countersUnder(dbs: StoreDbs, prefix: string): string[] {
  return [...dbs.counters.getKeys({ start: prefix, end: `${prefix}\uffff` })] as string[];
}

/**
 * Layout version 8 adds the counters of runs per flow and per deployment, counted from the runs
 * already stored (any left from a partial build dropped first).
 */
export const FLOW_RUN_OWNER_COUNTERS: UpgradeStep = {
  version: 8,
  adds: 'counters of flow runs per flow and per deployment',
  build(dbs) {
    for (const name of [...countersUnder(dbs, flowCounter('')), ...countersUnder(dbs, deploymentCounter(''))]) dbs.counters.remove(name);
    for (const { value: run } of dbs.flowRuns.getRange({})) bumpOwners(dbs, run, 1);
  },
};

// ── deployments ────────────────────────────────────────────────────────────────────────────

export function deploymentIdsOfFlow(dbs: StoreDbs, flowId: string): string[] {
  const ids: string[] = [];
  for (const { key, value } of dbs.deploymentsByFlowName.getRange({ start: [flowId] })) {
    if ((key as string[])[0] !== flowId) break;
    ids.push(value);
  }
  return ids;
}

export const deploymentKey = (flowId: string, name: string) => [flowId, indexString(name)];

export function putDeployment(dbs: StoreDbs, deployment: DeploymentRecord, isNew: boolean): void {
  dbs.deployments.put(deployment.id, deployment);
  if (isNew) {
    dbs.deploymentsByFlowName.put(deploymentKey(deployment.flow_id, deployment.name), deployment.id);
    bump(dbs, 'deployments', 1);
  }
}

/** Deletes a deployment; its runs keep their (now dangling) deployment id. */
export function removeDeployment(dbs: StoreDbs, deployment: DeploymentRecord): void {
  dbs.deployments.remove(deployment.id);
  dbs.deploymentsByFlowName.remove(deploymentKey(deployment.flow_id, deployment.name));
  bump(dbs, 'deployments', -1);
}
