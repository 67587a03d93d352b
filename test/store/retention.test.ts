/**
 * Retention (`pruneArtifacts`): what goes and what stays around the cutoff, the latest-version
 * rule, dry runs, batching, and concurrent writes — with `check()` after every prune, so
 * collections, indexes and counters stay exact. Cutoffs are taken from records' own `created`
 * times, which pins the boundary without a fake clock.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { NewArtifact } from '../../src/store/lmdb/artifacts.ts';
import { pruneArtifacts } from '../../src/store/retention.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { nowMicros } from '../../src/time.ts';
import { tempDir } from '../helpers.ts';

let dir: string;
let store: Store;

const artifact = (key: string | null, data = 'null'): NewArtifact => ({
  key,
  type: null,
  description: null,
  data,
  metadata: null,
  flowRunId: null,
  taskRunId: null,
});
const create = (key: string | null, data?: string) => store.artifacts.create(artifact(key, data));
const ids = (records: { id: string }[]) => records.map((r) => r.id).sort();
const remaining = () => ids(store.artifacts.find(null, 'CREATED_DESC', { offset: 0, limit: 10_000 }));

beforeEach(() => {
  dir = tempDir();
  store = Store.open(dir);
});
afterEach(async () => {
  expect(store.check()).toEqual([]);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('deletes versions created strictly before the cutoff, keyless ones too, and keeps each key latest', async () => {
  const a1 = await create('a');
  const a2 = await create('a');
  const n1 = await create(null);
  const b1 = await create('b'); // the only, hence latest, version of b
  const a3 = await create('a'); // created exactly at the cutoff: not older, kept
  const a4 = await create('a');
  const c1 = await create('c');

  const result = await pruneArtifacts(store, { cutoff: a3.created });
  expect(result.deleted).toBe(3);
  expect(result.keptLatest).toBe(1);
  expect(remaining()).toEqual(ids([b1, a3, a4, c1]));
  expect([store.artifacts.get(a1.id), store.artifacts.get(a2.id), store.artifacts.get(n1.id)]).toEqual([undefined, undefined, undefined]);
  expect(store.counts()).toMatchObject({ artifacts: 4, collections: 3 });
  expect(store.artifacts.latestByKey('a')!.latestId).toBe(a4.id);
  expect(store.artifacts.latestByKey('b')!.latestId).toBe(b1.id);
});

test('--include-latest also deletes a latest version older than the cutoff; keys with newer versions keep them', async () => {
  const a1 = await create('a');
  await create('b');
  const b2 = await create('b');
  const cutoff = nowMicros();
  const a2 = await create('a');

  const result = await pruneArtifacts(store, { cutoff, includeLatest: true });
  expect(result).toMatchObject({ deleted: 3, keptLatest: 0 });
  expect(remaining()).toEqual([a2.id]);
  expect(store.artifacts.latestByKey('b')).toBeUndefined(); // every version gone: the collection too
  expect(store.artifacts.latestByKey('a')!.latestId).toBe(a2.id);
  expect(store.counts()).toMatchObject({ artifacts: 1, collections: 1 });
  expect([a1.id, b2.id].map((id) => store.artifacts.get(id))).toEqual([undefined, undefined]);
});

test('a latest version is deleted with --include-latest and the key falls back to nothing older', async () => {
  const everything = await Promise.all(Array.from({ length: 12 }, (_, i) => create(i % 3 === 0 ? null : `k${i % 4}`)));
  const result = await pruneArtifacts(store, { cutoff: nowMicros(), includeLatest: true });
  expect(result.deleted).toBe(everything.length);
  expect(store.counts()).toMatchObject({ artifacts: 0, collections: 0 });
});

test('a dry run reports exactly what a real run then deletes, and writes nothing', async () => {
  for (let i = 0; i < 6; i++) await create(i % 2 ? 'x' : 'y');
  const cutoff = nowMicros();
  await create('x');
  const before = remaining();
  const dry = await pruneArtifacts(store, { cutoff, dryRun: true });
  expect(remaining()).toEqual(before);
  expect(dry.deleted).toBe(5); // 3 of x (a newer x exists) + 2 of y (its latest is kept)
  expect(dry.keptLatest).toBe(1);
  const real = await pruneArtifacts(store, { cutoff });
  expect(real.deleted).toBe(dry.deleted);
  expect(real.keptLatest).toBe(dry.keptLatest);
  expect(remaining()).toEqual(before.filter((id) => !dry.ids.includes(id)).sort());
});

test('small batches give the same result as one, one transaction per batch', async () => {
  const old = [];
  for (let i = 0; i < 23; i++) old.push(await create(i % 5 === 0 ? null : 'k'));
  const cutoff = nowMicros();
  const newest = await create('k');
  const batches: number[] = [];
  const result = await pruneArtifacts(store, { cutoff, batchSize: 4, onBatch: (n) => batches.push(n) });
  expect(result.deleted).toBe(23);
  expect(batches).toHaveLength(6); // ceil(23 / 4)
  expect(batches.at(-1)).toBe(23);
  expect(remaining()).toEqual([newest.id]);
});

test('writes during a prune are never lost and the store stays exact', async () => {
  const old = [];
  for (let i = 0; i < 60; i++) old.push(await create(`k${i % 3}`));
  const cutoff = nowMicros();
  const pruning = pruneArtifacts(store, { cutoff, batchSize: 5 });
  const fresh = await Promise.all(Array.from({ length: 30 }, (_, i) => create(`k${i % 3}`)));
  const result = await pruning;
  for (const r of fresh) expect(store.artifacts.get(r.id)).toBeDefined();
  // Every old version goes except, at most, one per key that was still latest when its batch ran.
  const oldLeft = old.filter((r) => store.artifacts.get(r.id));
  expect(oldLeft.length).toBe(60 - result.deleted);
  expect(oldLeft.length).toBeLessThanOrEqual(3);
  for (const r of oldLeft) expect(r).toBe(old.filter((o) => o.key === r.key).at(-1)!);
});

test('nothing older than the cutoff: nothing happens', async () => {
  const a = await create('a');
  const result = await pruneArtifacts(store, { cutoff: a.created });
  expect(result).toMatchObject({ deleted: 0, keptLatest: 0, ids: [] });
  expect(remaining()).toEqual([a.id]);
});
