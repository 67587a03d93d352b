/**
 * Layout version 10 (counters of runs per tag, state and state name, flow runs and task runs):
 * creates, state changes, retags and deletes keep them exact; a store written before them gets
 * them on open; the run sets they size answer the same.
 */
import { expect, test } from 'bun:test';
import { resolveRunSets, type RunFilters } from '../../../src/store/lmdb/query/runs.ts';
import { indexString } from '../../../src/store/index-keys.ts';
import { COUNTED_RUN_INDEXES, countersUnder, entriesCounter, RUN_INDEX_COUNTERS } from '../../../src/store/lmdb/rows.ts';
import type { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { expectUpgradedOnOpen, storePerTest } from './layout.ts';

const t = storePerTest();

async function seed(s: Store) {
  const flow = (await s.flows.create({ name: 'etl' } as never)).record;
  const run = async (tags: string[], state: object) => (await s.flowRuns.create({ flow_id: flow.id, name: 'r', tags, state } as never)).record;
  const a = await run(['nightly', 'nightly', 'prod'], { type: 'RUNNING' });
  await s.flowRuns.setState(a.id, { type: 'COMPLETED' } as never);
  const b = await run(['nightly'], { type: 'SCHEDULED', name: 'Late' });
  await s.flowRuns.update(b.id, { tags: ['adhoc'] } as never);
  await s.flowRuns.delete((await run(['nightly'], { type: 'FAILED' })).id);
  let n = 0;
  const task = async (tags: string[], state?: object) =>
    (await s.taskRuns.create({ flow_run_id: a.id, task_key: `t-${n++}`, dynamic_key: '0', name: 'x', tags, ...(state ? { state } : {}) } as never)).record;
  const t1 = await task(['io'], { type: 'FAILED' });
  await task(['io', 'cpu'], { type: 'RUNNING', name: 'Retrying' });
  await s.taskRuns.delete((await task(['io'], { type: 'FAILED' })).id);
  return { a, b, t1 };
}

const counter = (s: Store, index: (typeof COUNTED_RUN_INDEXES)[number], first: string) => s.dbs.counters.get(entriesCounter(index, first)) ?? 0;

function expectCounts(s: Store, { a, b, t1 }: Awaited<ReturnType<typeof seed>>) {
  expect([counter(s, 'flowRunsByTag', indexString('nightly')), counter(s, 'flowRunsByTag', indexString('adhoc')), counter(s, 'flowRunsByTag', indexString('prod'))]).toEqual([1, 1, 1]);
  expect([counter(s, 'flowRunsByStateName', indexString('Completed')), counter(s, 'flowRunsByStateName', indexString('Late'))]).toEqual([1, 1]);
  expect([counter(s, 'taskRunsByTag', indexString('io')), counter(s, 'taskRunsByTag', indexString('cpu'))]).toEqual([2, 1]);
  expect([counter(s, 'taskRunsByState', 'FAILED'), counter(s, 'taskRunsByState', 'RUNNING')]).toEqual([1, 1]);
  expect([counter(s, 'taskRunsByStateName', indexString('Failed')), counter(s, 'taskRunsByStateName', indexString('Retrying'))]).toEqual([1, 1]);
  const flowRuns = (f: object) => [...resolveRunSets(s, { flow_runs: f } as RunFilters).flowRunIds!].sort();
  const taskRuns = (f: object) => [...resolveRunSets(s, { task_runs: f } as RunFilters).taskRunIds!].sort();
  expect(flowRuns({ tags: { all_: ['nightly'] } })).toEqual([a.id]);
  expect(flowRuns({ tags: { any_: ['nightly', 'adhoc'] } })).toEqual([a.id, b.id].sort());
  expect(flowRuns({ state: { name: { any_: ['Late'] } } })).toEqual([b.id]);
  expect(taskRuns({ state: { type: { any_: ['FAILED'] } }, tags: { all_: ['io'] } })).toEqual([t1.id]);
}

test('every write path keeps the run index counters exact', async () => {
  const store = t.store;
  const seeded = await seed(store);
  expect(store.check()).toEqual([]);
  expectCounts(store, seeded);
});

test('a store written at version 9 gets the counters on open; the step is idempotent', async () => {
  const store = t.store;
  const seeded = await seed(store);
  store.dbs.env.transactionSync(() => {
    for (const index of COUNTED_RUN_INDEXES) for (const name of countersUnder(store.dbs, entriesCounter(index, ''))) store.dbs.counters.remove(name);
    store.dbs.counters.put(entriesCounter('taskRunsByTag', 'sghost'), 2);
    store.dbs.meta.put('schema', 9);
  });
  expect(store.check().length).toBeGreaterThan(0);
  await expectUpgradedOnOpen(t, RUN_INDEX_COUNTERS, (s) => expectCounts(s, seeded));
});
