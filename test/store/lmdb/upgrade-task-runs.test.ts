/**
 * Layout version 6 (`taskRuns.byState`, `byTag`, `byName`): creates, deletes and the cascades
 * from a flow run or a flow keep the indexes exact, `check` sees a missing or stale entry, and
 * a store written before them gets them built when it is opened.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { resolveRunSets, type RunFilters } from '../../../src/store/lmdb/query/runs.ts';
import { indexString } from '../../../src/store/index-keys.ts';
import { TASK_RUN_QUERY_INDEXES } from '../../../src/store/lmdb/rows.ts';
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

const LONG_NAME = `${'x'.repeat(500)}-nightly`; // hashed by indexString
const INDEXES = ['taskRunsByState', 'taskRunsByTag', 'taskRunsByName'] as const;

/** Task runs through every write path: creates (with and without a state), deletes, cascades. */
async function seedTasks(s: Store) {
  const etl = (await s.flows.create({ name: 'etl' } as never)).record;
  const doomed = (await s.flows.create({ name: 'doomed' } as never)).record;
  const run = (await s.flowRuns.create({ flow_id: etl.id, name: 'r', state: { type: 'RUNNING' } } as never)).record;
  const goneRun = (await s.flowRuns.create({ flow_id: etl.id, name: 'g', state: { type: 'RUNNING' } } as never)).record;
  const doomedRun = (await s.flowRuns.create({ flow_id: doomed.id, name: 'd', state: { type: 'RUNNING' } } as never)).record;
  let n = 0;
  const task = async (flowRunId: string | null, name: string, tags: string[], state?: string) =>
    (
      await s.taskRuns.create({
        flow_run_id: flowRunId,
        task_key: `t-${n++}`,
        dynamic_key: '0',
        name,
        tags,
        ...(state ? { state: { type: state } } : {}),
      } as never)
    ).record;
  const failed = await task(run.id, 'extract', ['io', 'io', 'nightly'], 'FAILED');
  const long = await task(null, LONG_NAME, ['nightly'], 'COMPLETED');
  const stateless = await task(run.id, 'load', []);
  const deleted = await task(run.id, 'deleted', ['io'], 'FAILED');
  await s.taskRuns.delete(deleted.id);
  await task(goneRun.id, 'extract', ['io'], 'FAILED');
  await s.flowRuns.delete(goneRun.id); // cascade: its task run's entries go
  await task(doomedRun.id, 'extract', ['nightly'], 'FAILED');
  await s.flows.delete(doomed.id); // cascade through the flow run
  return { failed, long, stateless };
}

const matching = (s: Store, taskRuns: object) =>
  [...resolveRunSets(s, { task_runs: taskRuns } as RunFilters).taskRunIds!].sort();

function expectAnswers(s: Store, tasks: Awaited<ReturnType<typeof seedTasks>>) {
  const { failed, long, stateless } = tasks;
  expect(matching(s, { state: { type: { any_: ['FAILED'] } } })).toEqual([failed.id]);
  expect(matching(s, { state: { type: { any_: ['FAILED', 'COMPLETED'] } } })).toEqual([failed.id, long.id].sort());
  expect(matching(s, { tags: { all_: ['nightly'] } })).toEqual([failed.id, long.id].sort());
  expect(matching(s, { tags: { all_: ['nightly', 'io'] } })).toEqual([failed.id]);
  expect(matching(s, { name: { any_: ['extract', 'deleted', LONG_NAME] } })).toEqual([failed.id, long.id].sort());
  expect(matching(s, { name: { like_: 'NIGHTLY' } })).toEqual([long.id]);
  expect(matching(s, { name: { like_: 'oa' } })).toEqual([stateless.id]);
  expect(matching(s, { operator: 'or_', tags: { all_: ['io'] }, name: { any_: ['load'] } })).toEqual([failed.id, stateless.id].sort());
}

test('creates, deletes and cascades keep the task-run state, tag and name indexes exact', async () => {
  const tasks = await seedTasks(store);
  expect(store.check()).toEqual([]);
  expect([...store.dbs.taskRunsByState.getKeys({})].length).toBe(3);
  expect([...store.dbs.taskRunsByTag.getKeys({})].length).toBe(3); // io once for a run listing it twice
  expectAnswers(store, tasks);
});

test('check reports a missing and a stale task-run entry', async () => {
  const { failed, long } = await seedTasks(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.taskRunsByState.remove(['FAILED', failed.id]);
    store.dbs.taskRunsByTag.put([indexString('gone'), long.id], Buffer.alloc(0));
    store.dbs.taskRunsByName.remove([indexString(LONG_NAME), long.id]);
  });
  const findings = store.check().join('\n');
  expect(findings).toContain('taskRuns.byState: record entry');
  expect(findings).toContain('taskRuns.byTag: entry');
  expect(findings).toContain('taskRuns.byName: record entry');
});

for (const stamp of [1, 4, 5]) {
  test(`a store written at version ${stamp} gets the task-run indexes on open`, async () => {
    const tasks = await seedTasks(store);
    asWrittenAt(store, stamp, INDEXES);
    expect(store.check().some((f) => f.startsWith('taskRuns.byState: record entry'))).toBe(true);
    await store.close();

    store = Store.open(dir);
    expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
    expect(LAYOUT_VERSION).toBeGreaterThanOrEqual(6);
    expect(store.check()).toEqual([]);
    expectAnswers(store, tasks);
  });
}

test('the step is idempotent over a partial or stale index', async () => {
  await seedTasks(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.taskRunsByTag.remove([...store.dbs.taskRunsByTag.getKeys({})][0]);
    store.dbs.taskRunsByName.put(['sstale', '00000000-0000-4000-8000-000000000000'], Buffer.alloc(0));
  });
  store.dbs.env.transactionSync(() => TASK_RUN_QUERY_INDEXES.build(store.dbs));
  store.dbs.env.transactionSync(() => TASK_RUN_QUERY_INDEXES.build(store.dbs));
  expect(store.check()).toEqual([]);
});
