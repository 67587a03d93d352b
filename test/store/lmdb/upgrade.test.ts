/**
 * Layout version 2 (`flowRuns.byTag`): every write path keeps the index exact, `check` sees a
 * missing or stale entry, and a store written before the index existed gets it built when it
 * is opened — whether it was stamped version 1 or carries no version at all.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { resolveRunSets } from '../../../src/store/lmdb/query/runs.ts';
import { FLOW_RUN_TAG_INDEX } from '../../../src/store/lmdb/rows.ts';
import { LAYOUT_VERSION, LmdbStore as Store, UPGRADES } from '../../../src/store/lmdb/store.ts';
import { storeVersion, upgradeStore } from '../../../src/store/lmdb/upgrade.ts';
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

const LONG_TAG = 'x'.repeat(500); // hashed by indexString
const NUL_TAG = 'a\0b';

/** Flows and runs with tags through every write path: create, retag, delete, cascades. */
async function seedRuns(s: Store) {
  const etl = (await s.flows.create({ name: 'etl' } as never)).record;
  const doomed = (await s.flows.create({ name: 'doomed' } as never)).record;
  const run = async (flow: string, tags: string[], extra: object = {}) =>
    (await s.flowRuns.create({ flow_id: flow, tags, state: { type: 'RUNNING' }, ...extra } as never)).record;
  const a = await run(etl.id, ['nightly', 'db', 'nightly']);
  const b = await run(etl.id, ['nightly', LONG_TAG, NUL_TAG]);
  const c = await run(etl.id, []);
  const retagged = await run(etl.id, ['old']);
  await s.flowRuns.update(retagged.id, { tags: ['new', 'nightly'] } as never);
  const deleted = await run(etl.id, ['nightly']);
  await s.flowRuns.delete(deleted.id);
  await run(doomed.id, ['nightly', 'doomed']);
  const task = (await s.taskRuns.create({ flow_run_id: a.id, task_key: 't', dynamic_key: '0' } as never)).record;
  const sub = await run(etl.id, ['sub'], { parent_task_run_id: task.id });
  await s.flows.delete(doomed.id); // cascade: its run and its tag entries go
  await s.taskRuns.delete(task.id); // the sub-flow run loses its parent, keeps its tags
  return { a, b, c, retagged, sub };
}

const tagged = (s: Store, tags: string[]) =>
  [...resolveRunSets(s, { flow_runs: { tags: { all_: tags } } } as never).flowRunIds!].sort();

test('creates, retags, deletes and cascades keep flowRuns.byTag exact', async () => {
  const { a, b, retagged, sub } = await seedRuns(store);
  expect(store.check()).toEqual([]);
  expect(tagged(store, ['nightly'])).toEqual([a.id, b.id, retagged.id].sort());
  expect(tagged(store, [LONG_TAG, NUL_TAG])).toEqual([b.id]);
  expect(tagged(store, ['old'])).toEqual([]);
  expect(tagged(store, ['doomed'])).toEqual([]);
  expect(tagged(store, ['sub'])).toEqual([sub.id]);
});

test('check reports a missing and a stale tag entry', async () => {
  const { a } = await seedRuns(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.flowRunsByTag.remove(['snightly', a.id]);
    store.dbs.flowRunsByTag.put(['sghost', a.id], Buffer.alloc(0));
  });
  const findings = store.check();
  expect(findings.filter((f) => f.startsWith('flowRuns.byTag'))).toHaveLength(2);
  expect(findings.join('\n')).toContain('flowRuns.byTag: record entry');
  expect(findings.join('\n')).toContain('flowRuns.byTag: entry');
  // The tag counters (layout version 10) count the index's entries: both tags' disagree now.
  expect(findings.filter((f) => f.startsWith('counters: flowRunsByTag')).sort()).toEqual([
    'counters: flowRunsByTag:sghost is 0, real count 1',
    'counters: flowRunsByTag:snightly is 3, real count 2',
  ]);
});

for (const stamp of ['version 1', 'no version'] as const) {
  test(`a store written before the tag index (${stamp}) gets it on open`, async () => {
    const { a, b, retagged } = await seedRuns(store);
    // The old layout: no tag entries at all, and the old version (or none, before versions existed).
    store.dbs.env.transactionSync(() => {
      for (const key of [...store.dbs.flowRunsByTag.getKeys({})]) store.dbs.flowRunsByTag.remove(key);
      if (stamp === 'version 1') store.dbs.meta.put('schema', 1);
      else store.dbs.meta.remove('schema');
    });
    expect(store.check().some((f) => f.startsWith('flowRuns.byTag: record entry'))).toBe(true);
    await store.close();

    store = Store.open(dir);
    expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
    expect(store.check()).toEqual([]);
    expect(tagged(store, ['nightly'])).toEqual([a.id, b.id, retagged.id].sort());
  });
}

test('the step is idempotent over a partial or stale index', async () => {
  await seedRuns(store);
  store.dbs.env.transactionSync(() => {
    const keys = [...store.dbs.flowRunsByTag.getKeys({})];
    store.dbs.flowRunsByTag.remove(keys[0]);
    store.dbs.flowRunsByTag.put(['sstale', '00000000-0000-4000-8000-000000000000'], Buffer.alloc(0));
  });
  store.dbs.env.transactionSync(() => FLOW_RUN_TAG_INDEX.build(store.dbs));
  store.dbs.env.transactionSync(() => FLOW_RUN_TAG_INDEX.build(store.dbs));
  expect(store.check()).toEqual([]);
});

test('a current store is not rebuilt; a new one is stamped with the newest version', async () => {
  await store.dbs.env.committed; // the stamp goes with the first batch
  expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
  await seedRuns(store);
  expect(upgradeStore(store.dbs, UPGRADES)).toEqual([]);
});

// ── layout version 3: artifacts by type; collections by type, flow run and task run ──────────

const RUN_A = '10000000-0000-4000-8000-00000000000a';
const RUN_B = '10000000-0000-4000-8000-00000000000b';
const TASK = '20000000-0000-4000-8000-00000000000a';

/** Versions of keys through every write path: new latest, PATCH, delete of the latest, of the last. */
async function seedArtifacts(s: Store) {
  const make = (key: string | null, type: string | null, flowRunId: string | null, taskRunId: string | null = null) =>
    s.artifacts.create({ key, type, description: null, data: '1', metadata: null, flowRunId, taskRunId });
  await make('k', 'table', RUN_A, TASK);
  const newest = await make('k', 'markdown', RUN_B); // the collection moves to markdown / RUN_B
  await s.artifacts.update(newest.id, { description: 'patched' });
  await make(null, 'x'.repeat(700), RUN_A); // a type hashed by indexString
  const gone = await make('gone', null, RUN_A);
  await s.artifacts.delete(gone.id); // the last version: the collection goes
  const back = await make('back', 'link', null, TASK);
  await make('back', 'progress', RUN_B);
  await s.artifacts.delete((await s.artifacts.latestByKey('back'))!.latestId); // falls back to the link
  return { back };
}

test('every write path keeps the type and collection run indexes exact, and check sees a broken one', async () => {
  await seedArtifacts(store);
  expect(store.check()).toEqual([]);
  expect([...store.dbs.collectionsByFlowRun.getKeys({})]).toEqual([[RUN_B, 'k']]);
  expect([...store.dbs.collectionsByTaskRun.getKeys({})]).toEqual([[TASK, 'back']]);
  store.dbs.env.transactionSync(() => {
    store.dbs.collectionsByType.remove([...store.dbs.collectionsByType.getKeys({})][0]);
    store.dbs.artifactsByType.put(['sstale', '00000000-0000-4000-8000-000000000000'], Buffer.alloc(0));
  });
  const findings = store.check();
  expect(findings.some((f) => f.startsWith('collections.byType: record entry'))).toBe(true);
  expect(findings.some((f) => f.startsWith('artifacts.byType: entry'))).toBe(true);
});

test('a store written before version 3 gets the type and collection run indexes on open', async () => {
  await seedArtifacts(store);
  asWrittenAt(store, 2, ['artifactsByType', 'collectionsByType', 'collectionsByFlowRun', 'collectionsByTaskRun']);
  expect(store.check().length).toBeGreaterThan(0);
  await store.close();
  store = Store.open(dir);
  expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
  expect(store.check()).toEqual([]);
  expect(store.artifacts.count({ type: { any_: ['markdown', 'x'.repeat(700)] } })).toBe(2);
  expect(store.artifacts.countLatest(undefined, { flowRunIds: new Set([RUN_B]) })).toBe(1);
});

test('a second handle opened in the same process right after a new store is not blocked', async () => {
  // lmdb-js holds the write lock of a synchronous commit until its flush: a stamp written that
  // way made this open wait forever on a lock only the event loop could release.
  const other = Store.open(dir);
  await store.artifacts.create({ key: 'k', type: null, description: null, data: '1', metadata: null, flowRunId: null, taskRunId: null });
  expect(other.artifacts.count(undefined)).toBe(1);
  await other.close();
});

test('a store written before version 5 gets the query views on open; check sees a stale view', async () => {
  await seedArtifacts(store);
  expect(store.check()).toEqual([]);
  store.dbs.env.transactionSync(() => {
    const [first] = [...store.dbs.artifactViews.getKeys({})];
    store.dbs.artifactViews.put(first as string, { ...store.dbs.artifactViews.get(first as string)!, type: 'stale' });
  });
  expect(store.check().some((f) => f.startsWith('artifacts.view:') && f.endsWith('differs from its record'))).toBe(true);
  asWrittenAt(store, 4, ['artifactViews', 'collectionViews']);
  await store.close();
  store = Store.open(dir);
  expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
  expect(store.check()).toEqual([]);
  expect(store.artifacts.count({ key: { like_: 'k' } })).toBe(3); // k × 2, back
  // Two conditions under or_: nothing narrows, so this scans the views.
  expect(store.artifacts.count({ operator: 'or_', type: { any_: ['link'] }, key: { like_: 'nothing' } })).toBe(1);
});
