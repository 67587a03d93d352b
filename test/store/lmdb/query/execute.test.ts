/**
 * Every access path and sort must return exactly what a brute-force evaluation returns: all
 * rows, filtered by the compiled predicate, ordered by the sort's comparator, then paged.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { compileArtifactFilter, compileCollectionFilter } from '../../../../src/filters/artifacts.ts';
import { artifactIdsByIndex, countArtifactsByIndex, countCollectionsByIndex } from '../../../../src/store/lmdb/query/execute.ts';
import { artifactOrder, collectionOrder } from '../../../../src/store/lmdb/query/order.ts';
import { SORTS } from '../../../../src/schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../../../src/schemas/filters.ts';
import type { ArtifactStore } from '../../../../src/store/lmdb/artifacts.ts';
import { LmdbStore as Store } from '../../../../src/store/lmdb/store.ts';
import type { ArtifactRecord, CollectionView } from '../../../../src/store/records.ts';
import { tempDir } from '../../../helpers.ts';

const RUNS = ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002'];
const TASKS = ['20000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000002'];
const KEYS = [null, '', 'c', 'c-1', 'alpha', 'beta', 'report\n'];
const TYPES = [null, 'table', 'markdown'];

let dir: string;
let root: Store;
let store: ArtifactStore;
let all: ArtifactRecord[];

beforeAll(async () => {
  dir = tempDir();
  root = Store.open(dir);
  store = root.artifacts;
  let seed = 7;
  const pick = <T>(xs: T[]) => xs[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % xs.length];
  const created: ArtifactRecord[] = [];
  for (let i = 0; i < 120; i++) {
    created.push(
      await store.create({
        key: pick(KEYS),
        type: pick(TYPES),
        description: null,
        data: String(i),
        metadata: null,
        flowRunId: pick([null, ...RUNS]),
        taskRunId: pick([null, ...TASKS]),
      }),
    );
  }
  for (const r of created.filter((_, i) => i % 7 === 0)) await store.update(r.id, { description: 'patched' });
  for (const r of created.filter((_, i) => i % 11 === 0)) await store.delete(r.id);
  all = created.filter((_, i) => i % 11 !== 0).map((r) => store.get(r.id)!);
});
afterAll(async () => {
  await root.close();
  rmSync(dir, { recursive: true, force: true });
});

const artifactFilters: (ArtifactFilter | undefined)[] = [
  undefined,
  { key: { any_: ['c', 'alpha', 'nope'] } },
  { key: { any_: ['c'] }, type: { any_: ['table'] } },
  { id: { any_: [] } },
  { flow_run_id: { any_: [RUNS[0]] } },
  { task_run_id: { any_: TASKS }, key: { exists_: true } },
  { operator: 'or_', key: { any_: ['beta'] }, type: { any_: ['markdown'] } },
  { type: { not_any_: ['table'] }, key: { like_: 'c' } },
  // `like_` narrows to the distinct keys it matches (read off the collections' keys); alone, a
  // count is the versions of those keys, counted in the key index.
  { key: { like_: 'c' } },
  { key: { like_: 'A' } },
  { key: { like_: '_-%' } },
  { key: { like_: 'c', exists_: true }, flow_run_id: { any_: RUNS } },
  { key: { like_: 'zzz' } },
];

test('artifact queries agree with brute force for every path, sort and page', () => {
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  for (const filter of [...artifactFilters, { id: { any_: all.slice(0, 9).map((r) => r.id) } }]) {
    const test = compileArtifactFilter(filter);
    for (const sort of SORTS) {
      const expected = all.filter(test).sort(artifactOrder(sort));
      for (const [offset, limit] of [[0, 200], [3, 5], [0, 0], [500, 10]]) {
        expect(ids(store.find(filter, sort, { offset, limit }))).toEqual(ids(expected.slice(offset, offset + limit)));
      }
    }
    expect(store.count(filter)).toBe(all.filter(test).length);
  }
});

test('pages of stored JSON (what the routes serve) agree with brute force for every path, sort and page', () => {
  for (const filter of [...artifactFilters, { id: { any_: all.slice(0, 9).map((r) => r.id) } }]) {
    const test = compileArtifactFilter(filter);
    for (const sort of SORTS) {
      const expected = all.filter(test).sort(artifactOrder(sort));
      for (const [offset, limit] of [[0, 200], [3, 5], [0, 0], [500, 10]]) {
        const got = store.findJson(filter, sort, { offset, limit }).map((json) => JSON.parse(json).id);
        expect(got).toEqual(expected.slice(offset, offset + limit).map((r) => r.id));
      }
    }
  }
});

test('one indexed list in id order is paged from index keys alone, and equals brute force', () => {
  const lists: ArtifactFilter[] = [
    { key: { any_: ['c', 'alpha', 'nope', 'c'] } },
    { flow_run_id: { any_: RUNS } },
    { task_run_id: { any_: [TASKS[1]] } },
    { id: { any_: [...all.slice(0, 5).map((r) => r.id), RUNS[0]] } },
  ];
  for (const filter of lists) {
    const expected = all.filter(compileArtifactFilter(filter)).sort(artifactOrder('ID_DESC')).map((r) => r.id);
    expect(artifactIdsByIndex(root.dbs, filter, undefined, 'ID_DESC', { offset: 0, limit: 200 })).toEqual(expected);
    expect(artifactIdsByIndex(root.dbs, filter, undefined, 'ID_DESC', { offset: 2, limit: 3 })).toEqual(expected.slice(2, 5));
  }
  const runs = { taskRunIds: new Set([TASKS[0]]) };
  expect(artifactIdsByIndex(root.dbs, undefined, runs, 'ID_DESC', { offset: 0, limit: 200 })).toEqual(
    all.filter((r) => r.taskRunId === TASKS[0]).sort(artifactOrder('ID_DESC')).map((r) => r.id),
  );
  // Other sorts, and anything more than one list, need the records.
  expect(artifactIdsByIndex(root.dbs, lists[1], undefined, 'CREATED_DESC', { offset: 0, limit: 10 })).toBeUndefined();
  expect(artifactIdsByIndex(root.dbs, { key: { any_: ['c'] }, type: { any_: ['table'] } }, undefined, 'ID_DESC', { offset: 0, limit: 10 })).toBeUndefined();
});

test('collection queries agree with brute force', () => {
  const collections = store.findLatest(undefined, 'KEY_ASC', { offset: 0, limit: 1000 });
  const latestIds = collections.map((c) => c.latestId);
  const filters: (ArtifactCollectionFilter | undefined)[] = [
    undefined,
    { key: { any_: ['c', 'beta', 'nope'] } },
    { latest_id: { any_: [...latestIds.slice(0, 2), all[0].id] } },
    { flow_run_id: { any_: [RUNS[1]] } },
    { task_run_id: { any_: [TASKS[0]] } },
    { type: { any_: ['table'] }, operator: 'or_', key: { like_: 'a' } },
    { key: { like_: 'a' } },
    { key: { like_: 'C' }, type: { any_: ['table', 'markdown'] } },
    { key: { like_: '%\n' } },
    { key: { like_: 'nothing' } },
  ];
  for (const filter of filters) {
    const test = compileCollectionFilter(filter);
    for (const sort of SORTS) {
      const expected = collections.filter(test).sort(collectionOrder(sort));
      const got = store.findLatest(filter, sort, { offset: 1, limit: 3 });
      expect(got.map((c: CollectionView) => c.id)).toEqual(expected.slice(1, 4).map((c) => c.id));
    }
    expect(store.countLatest(filter)).toBe(collections.filter(test).length);
  }
});

test('counts of a single indexed list come from index ranges, and equal brute force', () => {
  const exact: ArtifactFilter[] = [
    { key: { any_: ['c', 'alpha', 'nope', 'c'] } },
    { flow_run_id: { any_: RUNS } },
    { task_run_id: { any_: [TASKS[1]] } },
    { id: { any_: [...all.slice(0, 5).map((r) => r.id), RUNS[0]] } },
    { type: { any_: ['table'] } },
    { type: { any_: ['markdown', 'table', 'nope', 'table'] } },
    // Shapes the type, key and counter indexes answer too.
    { type: { not_any_: ['table'] } },
    { type: { not_any_: [] } },
    { type: { not_any_: ['nope'] } },
    { key: { exists_: true } },
    { key: { exists_: false } },
  ];
  for (const filter of exact) {
    expect(countArtifactsByIndex(root.dbs, filter, undefined)).toBe(all.filter(compileArtifactFilter(filter)).length);
  }
  const runs = { flowRunIds: new Set([RUNS[1]]) };
  expect(countArtifactsByIndex(root.dbs, undefined, runs)).toBe(all.filter((r) => r.flowRunId === RUNS[1]).length);
  // Anything more than one list needs the records.
  expect(countArtifactsByIndex(root.dbs, { key: { any_: ['c'], like_: 'c' } }, undefined)).toBeUndefined();
  expect(countArtifactsByIndex(root.dbs, { key: { any_: ['c'] }, type: { any_: ['table'] } }, undefined)).toBeUndefined();
  expect(countArtifactsByIndex(root.dbs, { type: { any_: ['table'], not_any_: ['markdown'] } }, undefined)).toBeUndefined();
  expect(countArtifactsByIndex(root.dbs, { key: { any_: ['c'] } }, runs)).toBeUndefined();
});

test('collection counts the indexes answer equal brute force', () => {
  const collections = store.findLatest(undefined, 'KEY_ASC', { offset: 0, limit: 1000 });
  const shapes: ArtifactCollectionFilter[] = [
    { key: { any_: ['c', 'nope', 'c'] } },
    { type: { any_: ['table'] } },
    { type: { any_: ['markdown', 'table'] } },
    { type: { not_any_: ['table'] } },
    { type: { not_any_: [] } },
    { key: { exists_: true } },
    { key: { exists_: false } },
  ];
  for (const filter of shapes) {
    expect(countCollectionsByIndex(root.dbs, filter, undefined)).toBe(collections.filter(compileCollectionFilter(filter)).length);
  }
  for (const [runs, test] of [
    [{ flowRunIds: new Set([RUNS[1]]) }, (c: CollectionView) => c.flowRunId === RUNS[1]],
    [{ flowRunIds: new Set(RUNS) }, (c: CollectionView) => c.flowRunId !== null],
    [{ taskRunIds: new Set([TASKS[0], 'x']) }, (c: CollectionView) => c.taskRunId === TASKS[0]],
  ] as const) {
    expect(countCollectionsByIndex(root.dbs, undefined, runs)).toBe(collections.filter(test).length);
    expect(store.countLatest(undefined, runs)).toBe(collections.filter(test).length);
  }
  expect(countCollectionsByIndex(root.dbs, { type: { any_: ['table'] } }, { flowRunIds: new Set(RUNS) })).toBeUndefined();
});

test('a walk that finds its matches at the far end gives up at its budget and reads the list', async () => {
  const own = tempDir();
  const s = Store.open(own);
  try {
    // The oldest 600 artifacts belong to 60 runs; 2,400 newer ones to none. The planner expects
    // a newest-first walk to find 10 of the 600 within ~50 rows and picks it; they are all at
    // the far end, so the walk stops at its budget and the runs' artifacts are read instead.
    const runs = Array.from({ length: 60 }, (_, i) => `30000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const make = (i: number, flowRunId: string | null) =>
      s.artifacts.create({ key: `k-${i % 7}`, type: 'table', description: null, data: String(i), metadata: null, flowRunId, taskRunId: null });
    for (let from = 0; from < 600; from += 100) await Promise.all(Array.from({ length: 100 }, (_, i) => make(from + i, runs[(from + i) % 60])));
    for (let from = 600; from < 3000; from += 400) await Promise.all(Array.from({ length: 400 }, (_, i) => make(from + i, null)));
    const set = new Set(runs);
    const all = s.artifacts.find(undefined, 'ID_DESC', { offset: 0, limit: 10_000 });
    for (const sort of SORTS) {
      const expected = all.filter((a) => a.flowRunId !== null && set.has(a.flowRunId)).sort(artifactOrder(sort));
      for (const [offset, limit] of [[0, 10], [5, 20]]) {
        const got = s.artifacts.findJson(undefined, sort, { offset, limit }, { flowRunIds: set }).map((json) => JSON.parse(json).id);
        expect(got).toEqual(expected.slice(offset, offset + limit).map((r) => r.id));
      }
    }
    expect(s.check()).toEqual([]);
  } finally {
    await s.close();
    rmSync(own, { recursive: true, force: true });
  }
});
