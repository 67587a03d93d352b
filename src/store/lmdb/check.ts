/**
 * Verifies the store's invariants and lists what is wrong (empty when sound): every index entry
 * points at a record and every record is indexed; each key's collection names its newest
 * version by `created` and mirrors its fields; the counters equal real counts.
 */
import type { Database, Key } from 'lmdb';
import type { StoreDbs } from './env.ts';
import { eventKey, eventResourceKeys } from './events.ts';
import { logRunKey, logTaskRunKeys, logTimeKey } from './logs.ts';
import { byKeyKey, byRunKey, byTimeKey, byTypeKey, typeCounter, typeCounterPrefix, typeKey, versionsRange } from './keys.ts';
import { indexString } from '../index-keys.ts';
import { artifactJson, artifactView, collectionJson, collectionView, mirroredFields, type ArtifactRecord } from '../records.ts';
import { COUNTED_RUN_INDEXES, countersUnder, entriesCounter, tally, deploymentCounter, deploymentKey, flowCounter, flowRunTimeNameKeys, idempotencyKey, stateCounter, stateNameKey, taskRunQueryKeys } from './rows.ts';

const keyString = (key: unknown) => JSON.stringify(key);

export function checkStore(dbs: StoreDbs): string[] {
  const findings: string[] = [];
  const expect = (index: string, actual: Iterable<unknown>, wanted: Set<string>) => {
    const seen = new Set<string>();
    for (const key of actual) {
      const k = keyString(key);
      seen.add(k);
      if (!wanted.has(k)) findings.push(`${index}: entry ${k} has no matching record`);
    }
    for (const k of wanted) if (!seen.has(k)) findings.push(`${index}: record entry ${k} is missing`);
  };

  const artifacts: ArtifactRecord[] = [];
  for (const { key, value } of dbs.artifacts.getRange({})) {
    if (key !== value.id) findings.push(`artifacts: record stored under ${key} has id ${value.id}`);
    artifacts.push(value);
  }
  const want = (make: (r: ArtifactRecord) => unknown[] | undefined) =>
    new Set(artifacts.map(make).filter((k) => k !== undefined).map(keyString));
  expect('artifacts.byKey', dbs.artifactsByKey.getKeys({}), want((r) => byKeyKey(r.key, r.created, r.id)));
  expect('artifacts.byCreated', dbs.artifactsByCreated.getKeys({}), want((r) => byTimeKey(r.created, r.id)));
  expect('artifacts.byUpdated', dbs.artifactsByUpdated.getKeys({}), want((r) => byTimeKey(r.updated, r.id)));
  expect('artifacts.byFlowRun', dbs.artifactsByFlowRun.getKeys({}), want((r) => (r.flowRunId ? byRunKey(r.flowRunId, r.id) : undefined)));
  expect('artifacts.byTaskRun', dbs.artifactsByTaskRun.getKeys({}), want((r) => (r.taskRunId ? byRunKey(r.taskRunId, r.id) : undefined)));
  expect('artifacts.byType', dbs.artifactsByType.getKeys({}), want((r) => byTypeKey(r.type, r.id)));

  // The stored JSON each read serves must be exactly what the record renders to.
  const renderedAs = (name: string, db: StoreDbs['artifactJson'], wanted: Map<string, string>) => {
    for (const { key, value } of db.getRange({})) {
      const expected = wanted.get(key);
      if (expected === undefined) findings.push(`${name}: ${JSON.stringify(key)} has no record`);
      else if (value !== expected) findings.push(`${name}: ${JSON.stringify(key)} differs from its record`);
      wanted.delete(key);
    }
    for (const key of wanted.keys()) findings.push(`${name}: ${JSON.stringify(key)} is missing`);
  };
  renderedAs('artifacts.json', dbs.artifactJson, new Map(artifacts.map((r) => [r.id, artifactJson(r)])));
  // The views queries scan must be exactly the records' projections.
  const projected = <V>(name: string, db: { getRange(o: object): Iterable<{ key: string; value: V }> }, wanted: Map<string, string>) => {
    const asText = new Map<string, string>();
    for (const { key, value } of db.getRange({})) asText.set(key, JSON.stringify(value));
    renderedAs(name, { getRange: () => [...asText].map(([key, value]) => ({ key, value })) } as never, wanted);
  };
  projected('artifacts.view', dbs.artifactViews, new Map(artifacts.map((r) => [r.id, JSON.stringify(artifactView(r))])));

  const keys = new Set(artifacts.flatMap((r) => (r.key === null ? [] : [r.key])));
  const collections = [...dbs.collections.getRange({})].map(({ value }) => value);
  for (const c of collections) {
    if (!keys.has(c.key)) {
      findings.push(`collections: key ${JSON.stringify(c.key)} has no artifact`);
      continue;
    }
    let newest: ArtifactRecord | undefined;
    const range = versionsRange(c.key);
    for (const k of dbs.artifactsByKey.getKeys({ start: range.end, end: range.start, reverse: true })) {
      newest = dbs.artifacts.get((k as unknown[])[3] as string);
      break;
    }
    if (!newest || newest.id !== c.latestId) {
      findings.push(`collections: key ${JSON.stringify(c.key)} names ${c.latestId}, newest is ${newest?.id}`);
    } else if (JSON.stringify(mirroredFields(newest)) !== JSON.stringify(mirroredFields(c))) {
      findings.push(`collections: key ${JSON.stringify(c.key)} does not mirror its latest version`);
    }
  }
  for (const key of keys) if (!dbs.collections.get(key)) findings.push(`collections: key ${JSON.stringify(key)} has no collection`);
  renderedAs('collections.json', dbs.collectionJson, new Map(collections.map((c) => [c.key, collectionJson(c)])));
  projected('collections.view', dbs.collectionViews, new Map(collections.map((c) => [c.key, JSON.stringify(collectionView(c))])));
  const wantCollections = (make: (c: (typeof collections)[number]) => unknown) => new Set(collections.map(make).map(keyString));
  expect('collections.byId', dbs.collectionsById.getKeys({}), wantCollections((c) => c.id));
  expect('collections.byCreated', dbs.collectionsByCreated.getKeys({}), wantCollections((c) => byTimeKey(c.created, c.id)));
  expect('collections.byUpdated', dbs.collectionsByUpdated.getKeys({}), wantCollections((c) => byTimeKey(c.updated, c.id)));
  // The indexes of the fields a collection mirrors from its latest version.
  const wantMirrored = (make: (c: (typeof collections)[number]) => unknown[] | undefined) =>
    new Set(collections.map(make).filter((k) => k !== undefined).map(keyString));
  expect('collections.byType', dbs.collectionsByType.getKeys({}), wantMirrored((c) => [typeKey(c.type), c.key]));
  expect('collections.byFlowRun', dbs.collectionsByFlowRun.getKeys({}), wantMirrored((c) => (c.flowRunId ? [c.flowRunId, c.key] : undefined)));
  expect('collections.byTaskRun', dbs.collectionsByTaskRun.getKeys({}), wantMirrored((c) => (c.taskRunId ? [c.taskRunId, c.key] : undefined)));

  const counted = (name: string, real: number) => {
    const stored = dbs.counters.get(name) ?? 0;
    if (stored !== real) findings.push(`counters: ${name} is ${stored}, real count ${real}`);
  };
  counted('artifacts', artifacts.length);
  counted('collections', collections.length);
  // Rows per type.
  countedUnder(dbs, counted, [typeCounterPrefix('artifacts')], tally(artifacts.map((r) => typeCounter('artifacts', r.type))));
  countedUnder(dbs, counted, [typeCounterPrefix('collections')], tally(collections.map((c) => typeCounter('collections', c.type))));
  checkCompanions(dbs, expect, counted, findings);
  checkLogsAndEvents(dbs, counted, findings);
  return findings;
}

/**
 * Log lines and events: each record under its key, its index entries, the counters. These
 * tables grow to millions of rows, so nothing is collected: each record's derived keys are
 * looked up in their index, and each index entry is checked against the record it names.
 */
function checkLogsAndEvents(dbs: StoreDbs, counted: (name: string, real: number) => void, findings: string[]): void {
  const logById = (key: Key[]) => dbs.logs.get(key[key.length - 1] as string);
  counted('logs', checkDerived(findings, 'logs', dbs.logs.getRange({}), (r) => r.id, [
    { name: 'logs.byTimestamp', index: dbs.logsByTimestamp, derive: (r) => [logTimeKey(r)], recordOf: logById },
    { name: 'logs.byFlowRun', index: dbs.logsByFlowRun, derive: (r) => [logRunKey(r)], recordOf: logById },
    { name: 'logs.byTaskRun', index: dbs.logsByTaskRun, derive: (r) => logTaskRunKeys(r), recordOf: logById },
  ]));
  counted('events', checkDerived(findings, 'events', dbs.events.getRange({}), eventKey, [
    // [resource, occurred, id]: the record is the entry's last two elements.
    { name: 'events.byResource', index: dbs.eventsByResource, derive: eventResourceKeys, recordOf: (key) => dbs.events.get(key.slice(-2)) },
  ]));
  for (const { key, value: occurred } of dbs.eventsById.getRange({})) {
    if (!dbs.events.doesExist([occurred, key])) findings.push(`events.byId: ${key} names no event at ${occurred}`);
  }
  for (const { value } of dbs.events.getRange({})) {
    if (dbs.eventsById.get(value.id) !== value.occurred) findings.push(`events.byId: ${value.id} is missing or names another time`);
  }
}

interface DerivedIndex<R> {
  name: string;
  index: Database<Buffer, Key[]>;
  /** The index's keys of a record. */
  derive(record: R): Key[][];
  /** The record an index key names. */
  recordOf(key: Key[]): R | undefined;
}

/** Checks a table's records (each under the key `keyOf` gives) against their indexes; how many records. */
function checkDerived<R>(findings: string[], table: string, records: Iterable<{ key: unknown; value: R }>, keyOf: (record: R) => unknown, indexes: DerivedIndex<R>[]): number {
  let n = 0;
  for (const { key, value } of records) {
    n++;
    if (keyString(key) !== keyString(keyOf(value))) findings.push(`${table}: record stored under ${keyString(key)} belongs under ${keyString(keyOf(value))}`);
    for (const { name, index, derive } of indexes) {
      for (const k of derive(value)) if (!index.doesExist(k)) findings.push(`${name}: record entry ${keyString(k)} is missing`);
    }
  }
  for (const { name, index, derive, recordOf } of indexes) {
    for (const key of index.getKeys({})) {
      const record = recordOf(key);
      const k = keyString(key);
      if (record === undefined || !derive(record).some((d) => keyString(d) === k)) findings.push(`${name}: entry ${k} has no matching record`);
    }
  }
  return n;
}

/** Flows, runs and deployments: indexes, counters, and the links Prefect enforces. */
function checkCompanions(
  dbs: StoreDbs,
  expect: (index: string, actual: Iterable<unknown>, wanted: Set<string>) => void,
  counted: (name: string, real: number) => void,
  findings: string[],
): void {
  const values = <T>(db: { getRange(o: object): Iterable<{ value: T }> }) => [...db.getRange({})].map(({ value }) => value);
  const keys = (items: unknown[]) => new Set(items.map(keyString));
  const flows = values(dbs.flows);
  const runs = values(dbs.flowRuns);
  const tasks = values(dbs.taskRuns);
  const deployments = values(dbs.deployments);

  expect('flows.byName', dbs.flowsByName.getKeys({}), keys(flows.map((f) => indexString(f.name))));
  expect('flowRuns.byFlow', dbs.flowRunsByFlow.getKeys({}), keys(runs.map((r) => [r.flow_id, r.id])));
  expect('flowRuns.byDeployment', dbs.flowRunsByDeployment.getKeys({}), keys(runs.filter((r) => r.deployment_id).map((r) => [r.deployment_id, r.id])));
  expect('flowRuns.byParentTask', dbs.flowRunsByParentTask.getKeys({}), keys(runs.filter((r) => r.parent_task_run_id).map((r) => [r.parent_task_run_id, r.id])));
  expect('flowRuns.byIdempotencyKey', dbs.flowRunsByIdempotencyKey.getKeys({}), keys(runs.filter((r) => r.idempotency_key !== null).map((r) => idempotencyKey(r.flow_id, r.idempotency_key!))));
  expect('flowRuns.byState', dbs.flowRunsByState.getKeys({}), keys(runs.map((r) => [r.state_type ?? '', r.id])));
  expect('flowRuns.byStateName', dbs.flowRunsByStateName.getKeys({}), keys(runs.map(stateNameKey)));
  expect('flowRuns.byTag', dbs.flowRunsByTag.getKeys({}), keys(runs.flatMap((r) => [...new Set(r.tags)].map((tag) => [indexString(tag), r.id]))));
  const timeName = runs.map(flowRunTimeNameKeys);
  const timeNameIndexes = { byStartTime: dbs.flowRunsByStartTime, byExpectedStartTime: dbs.flowRunsByExpectedStartTime, byEndTime: dbs.flowRunsByEndTime, byName: dbs.flowRunsByName };
  for (const [name, db] of Object.entries(timeNameIndexes) as [keyof typeof timeNameIndexes, StoreDbs['flowRunsByName']][]) {
    expect(`flowRuns.${name}`, db.getKeys({}), keys(timeName.map((k) => k[name]).filter((k) => k !== undefined)));
  }
  expect('taskRuns.byFlowRun', dbs.taskRunsByFlowRun.getKeys({}), keys(tasks.map((t) => [t.flow_run_id ?? '', t.id])));
  expect('taskRuns.byKeys', dbs.taskRunsByKeys.getKeys({}), keys(tasks.map((t) => [t.flow_run_id ?? '', indexString(t.task_key), indexString(t.dynamic_key)])));
  const taskQuery = tasks.map(taskRunQueryKeys);
  expect('taskRuns.byState', dbs.taskRunsByState.getKeys({}), keys(taskQuery.map((k) => k.byState)));
  expect('taskRuns.byStateName', dbs.taskRunsByStateName.getKeys({}), keys(tasks.map(stateNameKey)));
  expect('taskRuns.byTag', dbs.taskRunsByTag.getKeys({}), keys(taskQuery.flatMap((k) => k.byTag)));
  expect('taskRuns.byName', dbs.taskRunsByName.getKeys({}), keys(taskQuery.map((k) => k.byName)));
  expect('deployments.byFlowName', dbs.deploymentsByFlowName.getKeys({}), keys(deployments.map((d) => deploymentKey(d.flow_id, d.name))));

  const flowIds = new Set(flows.map((f) => f.id));
  const runIds = new Set(runs.map((r) => r.id));
  const taskIds = new Set(tasks.map((t) => t.id));
  for (const r of runs) {
    if (!flowIds.has(r.flow_id)) findings.push(`flowRuns: ${r.id} names missing flow ${r.flow_id}`);
    if (r.parent_task_run_id && !taskIds.has(r.parent_task_run_id)) findings.push(`flowRuns: ${r.id} names missing parent task run`);
  }
  for (const t of tasks) if (t.flow_run_id && !runIds.has(t.flow_run_id)) findings.push(`taskRuns: ${t.id} names missing flow run`);
  for (const d of deployments) if (!flowIds.has(d.flow_id)) findings.push(`deployments: ${d.id} names missing flow`);

  const states = new Map<string, number>();
  for (const r of runs) states.set(r.state_type ?? '', (states.get(r.state_type ?? '') ?? 0) + 1);
  for (const [state, n] of states) counted(stateCounter(state), n);
  // Runs per flow and per deployment.
  const owners = runs.flatMap((r) => (r.deployment_id === null ? [flowCounter(r.flow_id)] : [flowCounter(r.flow_id), deploymentCounter(r.deployment_id)]));
  countedUnder(dbs, counted, [flowCounter(''), deploymentCounter('')], tally(owners));
  // Entries per first key element of the counted run indexes (their keys are checked above).
  for (const index of COUNTED_RUN_INDEXES) {
    const names = [...dbs[index].getKeys({})].map((key) => entriesCounter(index, (key as string[])[0]));
    countedUnder(dbs, counted, [entriesCounter(index, '')], tally(names));
  }
  counted('flows', flows.length);
  counted('flowRuns', runs.length);
  counted('taskRuns', tasks.length);
  counted('deployments', deployments.length);
}

/**
 * Counters that count something per name under `prefixes`: each stored one against its real
 * count (a counter left at 0 for a name with nothing is fine), and each real count against its
 * counter.
 */
function countedUnder(dbs: StoreDbs, counted: (name: string, real: number) => void, prefixes: string[], real: Map<string, number>): void {
  const names = new Set([...prefixes.flatMap((prefix) => countersUnder(dbs, prefix)), ...real.keys()]);
  for (const name of names) counted(name, real.get(name) ?? 0);
}
