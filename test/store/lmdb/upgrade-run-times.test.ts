/**
 * Layout version 4 (`flowRuns.byStartTime`, `byExpectedStartTime`, `byEndTime`, `byName`):
 * every write path keeps the indexes exact — creates, state changes that move a run's times,
 * renames, deletes, cascades —, `check` sees a missing or stale entry, and a store written
 * before them gets them built when it is opened.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { resolveRunSets, type RunFilters } from '../../../src/store/lmdb/query/runs.ts';
import { FLOW_RUN_TIME_NAME_INDEXES } from '../../../src/store/lmdb/rows.ts';
import { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { storeVersion } from '../../../src/store/lmdb/upgrade.ts';
import { formatMicros } from '../../../src/time.ts';
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
const INDEXES = ['flowRunsByStartTime', 'flowRunsByExpectedStartTime', 'flowRunsByEndTime', 'flowRunsByName'] as const;

/** Runs through every write path that moves a time or a name. */
async function seedRuns(s: Store) {
  const etl = (await s.flows.create({ name: 'etl' } as never)).record;
  const doomed = (await s.flows.create({ name: 'doomed' } as never)).record;
  const run = async (flow: string, name: string, state: object) =>
    (await s.flowRuns.create({ flow_id: flow, name, state } as never)).record;
  const scheduled = await run(etl.id, 'early-bird', { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } });
  const finished = await run(etl.id, LONG_NAME, { type: 'RUNNING' });
  await s.flowRuns.setState(finished.id, { type: 'COMPLETED' } as never); // gets an end time
  const rerun = await run(etl.id, 'rerun', { type: 'RUNNING' });
  await s.flowRuns.setState(rerun.id, { type: 'FAILED' } as never);
  await s.flowRuns.setState(rerun.id, { type: 'SCHEDULED' } as never); // the end time is cleared
  const renamed = await run(etl.id, 'old-name', { type: 'PENDING' });
  await s.flowRuns.update(renamed.id, { name: 'new-name' } as never);
  const deleted = await run(etl.id, 'deleted', { type: 'RUNNING' });
  await s.flowRuns.delete(deleted.id);
  await run(doomed.id, 'doomed-run', { type: 'RUNNING' });
  await s.flows.delete(doomed.id); // cascade: its run's entries go
  const get = (id: string) => s.flowRuns.get(id)!;
  return { scheduled: get(scheduled.id), finished: get(finished.id), rerun: get(rerun.id), renamed: get(renamed.id) };
}

const matching = (s: Store, flowRuns: object) =>
  [...resolveRunSets(s, { flow_runs: flowRuns } as RunFilters).flowRunIds!].sort();

async function expectAnswers(s: Store, runs: Awaited<ReturnType<typeof seedRuns>>) {
  const { scheduled, finished, rerun, renamed } = runs;
  expect(rerun.end_time).toBeNull();
  expect(matching(s, { end_time: { is_null_: false } })).toEqual([finished.id]);
  expect(matching(s, { start_time: { is_null_: true } })).toEqual([scheduled.id, renamed.id].sort());
  expect(matching(s, { start_time: { after_: formatMicros(rerun.start_time!) } })).toEqual([rerun.id]); // inclusive
  expect(matching(s, { expected_start_time: { after_: '2029-12-31T00:00:00Z' } })).toEqual([scheduled.id]);
  expect(matching(s, { expected_start_time: { before_: '2029-12-31T00:00:00Z' } })).toEqual([finished.id, rerun.id, renamed.id].sort());
  expect(matching(s, { name: { like_: 'NAME' } })).toEqual([renamed.id]);
  expect(matching(s, { name: { like_: 'nightly' } })).toEqual([finished.id]);
  expect(matching(s, { name: { any_: [LONG_NAME, 'old-name', 'doomed-run'] } })).toEqual([finished.id]);
}

test('creates, state changes, renames, deletes and cascades keep the time and name indexes exact', async () => {
  const runs = await seedRuns(store);
  expect(store.check()).toEqual([]);
  await expectAnswers(store, runs);
});

test('check reports a missing and a stale time or name entry', async () => {
  const { finished, renamed } = await seedRuns(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.flowRunsByEndTime.remove([finished.end_time!, finished.id]);
    store.dbs.flowRunsByName.put(['sold-name', renamed.id], Buffer.alloc(0));
  });
  const findings = store.check().join('\n');
  expect(findings).toContain('flowRuns.byEndTime: record entry');
  expect(findings).toContain('flowRuns.byName: entry');
});

for (const stamp of [2, 3]) {
  test(`a store written at version ${stamp} gets the time and name indexes on open`, async () => {
    const runs = await seedRuns(store);
    asWrittenAt(store, stamp, INDEXES);
    expect(store.check().some((f) => f.startsWith('flowRuns.byName: record entry'))).toBe(true);
    await store.close();

    store = Store.open(dir);
    expect(storeVersion(store.dbs)).toBeGreaterThanOrEqual(4);
    expect(store.check()).toEqual([]);
    await expectAnswers(store, runs);
  });
}

test('the step is idempotent over a partial or stale index', async () => {
  await seedRuns(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.flowRunsByStartTime.remove([...store.dbs.flowRunsByStartTime.getKeys({})][0]);
    store.dbs.flowRunsByName.put(['sstale', '00000000-0000-4000-8000-000000000000'], Buffer.alloc(0));
  });
  store.dbs.env.transactionSync(() => FLOW_RUN_TIME_NAME_INDEXES.build(store.dbs));
  store.dbs.env.transactionSync(() => FLOW_RUN_TIME_NAME_INDEXES.build(store.dbs));
  expect(store.check()).toEqual([]);
});
