/**
 * Layout version 7 (`flowRuns.byStateName`, `taskRuns.byStateName`): creates, state changes,
 * deletes and cascades keep the indexes exact (a run without a state name apart from any name),
 * `check` sees a missing or stale entry, and a store written before them gets them on open.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { resolveRunSets, type RunFilters } from '../../../src/store/lmdb/query/runs.ts';
import { indexString } from '../../../src/store/index-keys.ts';
import { putTaskRun, RUN_STATE_NAME_INDEXES } from '../../../src/store/lmdb/rows.ts';
import { LAYOUT_VERSION, LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { storeVersion } from '../../../src/store/lmdb/upgrade.ts';
import { tempDir } from '../../helpers.ts';
import { asWrittenAt } from './layout.ts';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = tempDir();
  store = Store.open(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const LONG = `${'x'.repeat(500)}-Late`; // hashed by indexString
const INDEXES = ['flowRunsByStateName', 'taskRunsByStateName'] as const;

/** Runs through every write path: creates, state changes, a rename, deletes and cascades. */
async function seed(s: Store) {
  const etl = (await s.flows.create({ name: 'etl' } as never)).record;
  const doomed = (await s.flows.create({ name: 'doomed' } as never)).record;
  const run = async (flowId: string, state: object) => (await s.flowRuns.create({ flow_id: flowId, name: 'r', state } as never)).record;
  const completed = await run(etl.id, { type: 'RUNNING' });
  await s.flowRuns.setState(completed.id, { type: 'COMPLETED' } as never);
  const late = await run(etl.id, { type: 'RUNNING' });
  await s.flowRuns.setState(late.id, { type: 'SCHEDULED', name: 'Late' } as never);
  const long = await run(etl.id, { type: 'FAILED', name: LONG });
  await s.flowRuns.update(long.id, { tags: ['t'] } as never);
  const gone = await run(etl.id, { type: 'COMPLETED' });
  await s.flowRuns.delete(gone.id);
  await run(doomed.id, { type: 'COMPLETED' });
  let n = 0;
  const task = async (flowRunId: string | null, state?: object) =>
    (await s.taskRuns.create({ flow_run_id: flowRunId, task_key: `t-${n++}`, dynamic_key: '0', name: 'x', ...(state ? { state } : {}) } as never)).record;
  const failed = await task(completed.id, { type: 'FAILED' });
  const retrying = await task(null, { type: 'RUNNING', name: 'Retrying' });
  const stateless = await task(completed.id);
  await s.taskRuns.delete((await task(late.id, { type: 'FAILED' })).id);
  await s.flows.delete(doomed.id); // cascade through the flow run
  return { completed, late, long, failed, retrying, stateless };
}

const flowRuns = (s: Store, state: object) => [...resolveRunSets(s, { flow_runs: { state } } as RunFilters).flowRunIds!].sort();
const taskRuns = (s: Store, state: object) => [...resolveRunSets(s, { task_runs: { state } } as RunFilters).taskRunIds!].sort();

function expectAnswers(s: Store, seeded: Awaited<ReturnType<typeof seed>>) {
  const { completed, late, long, failed, retrying } = seeded;
  expect(flowRuns(s, { name: { any_: ['Completed'] } })).toEqual([completed.id]);
  expect(flowRuns(s, { name: { any_: ['Late', LONG, 'Running'] } })).toEqual([late.id, long.id].sort());
  expect(flowRuns(s, { type: { any_: ['SCHEDULED'] }, name: { any_: ['Late', 'Completed'] } })).toEqual([late.id]);
  expect(flowRuns(s, { name: { any_: [''] } })).toEqual([]);
  expect(taskRuns(s, { name: { any_: ['Failed', 'Retrying'] } })).toEqual([failed.id, retrying.id].sort());
  expect(taskRuns(s, { name: { any_: [''] } })).toEqual([]);
}

test('creates, state changes, deletes and cascades keep the state-name indexes exact', async () => {
  const seeded = await seed(store);
  expect(store.check()).toEqual([]);
  expect([...store.dbs.flowRunsByStateName.getKeys({})].length).toBe(3);
  expect([...store.dbs.taskRunsByStateName.getKeys({})].length).toBe(3);
  expect(taskRuns(store, { name: { any_: ['Pending'] } })).toEqual([seeded.stateless.id]); // created without a state
  expectAnswers(store, seeded);
  // A run with no state at all (as an import may hold) is under "", apart from every name.
  const { stateless } = seeded;
  store.dbs.env.transactionSync(() => putTaskRun(store.dbs, { ...store.taskRuns.get(stateless.id)!, state_type: null, state_name: null }, false));
  expect(store.dbs.taskRunsByStateName.doesExist(['', stateless.id])).toBe(true);
  expect(store.check()).toEqual([]);
  expect(taskRuns(store, { name: { any_: ['Pending'] } })).toEqual([]);
  expectAnswers(store, seeded);
});

test('check reports a missing and a stale state-name entry', async () => {
  const { completed, failed } = await seed(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.flowRunsByStateName.remove([indexString('Completed'), completed.id]);
    store.dbs.taskRunsByStateName.put([indexString('Running'), failed.id], Buffer.alloc(0));
  });
  const findings = store.check().join('\n');
  expect(findings).toContain('flowRuns.byStateName: record entry');
  expect(findings).toContain('taskRuns.byStateName: entry');
});

for (const stamp of [1, 6]) {
  test(`a store written at version ${stamp} gets the state-name indexes on open`, async () => {
    const seeded = await seed(store);
    asWrittenAt(store, stamp, INDEXES);
    expect(store.check().some((f) => f.startsWith('flowRuns.byStateName: record entry'))).toBe(true);
    await store.close();

    store = Store.open(dir);
    expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
    expect(LAYOUT_VERSION).toBeGreaterThanOrEqual(7);
    expect(store.check()).toEqual([]);
    expectAnswers(store, seeded);
  });
}

test('the step is idempotent over a partial or stale index', async () => {
  const seeded = await seed(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.flowRunsByStateName.remove([...store.dbs.flowRunsByStateName.getKeys({})][0]);
    store.dbs.taskRunsByStateName.put(['sstale', '00000000-0000-4000-8000-000000000000'], Buffer.alloc(0));
  });
  store.dbs.env.transactionSync(() => RUN_STATE_NAME_INDEXES.build(store.dbs));
  expect(store.check()).toEqual([]);
  store.dbs.env.transactionSync(() => RUN_STATE_NAME_INDEXES.build(store.dbs));
  expect(store.check()).toEqual([]);
  expectAnswers(store, seeded);
});
