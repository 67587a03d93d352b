/**
 * The store's write paths keep records, indexes, collections and counters consistent; checked
 * after every step with `root.check()`, including across a reopen of the environment.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { ArtifactStore, NewArtifact } from '../../../src/store/lmdb/artifacts.ts';
import { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { tempDir } from '../../helpers.ts';

let dir: string;
let root: Store;
let store: ArtifactStore;

const artifact = (over: Partial<NewArtifact> = {}): NewArtifact => ({
  key: null,
  type: null,
  description: null,
  data: 'null',
  metadata: null,
  flowRunId: null,
  taskRunId: null,
  ...over,
});
const FR = '11111111-1111-4111-8111-111111111111';
const TR = '22222222-2222-4222-8222-222222222222';

beforeEach(() => {
  dir = tempDir();
  root = Store.open(dir);
  store = root.artifacts;
});
afterEach(async () => {
  await root.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('write paths keep the store consistent', () => {
  test('create, update and delete across versions, with counters exact at every step', async () => {
    const a = await store.create(artifact({ key: 'k', type: 'markdown', flowRunId: FR, taskRunId: TR, data: '"v1"' }));
    const b = await store.create(artifact({ key: 'k', data: '"v2"' }));
    const c = await store.create(artifact({ data: '[1]' }));
    expect(root.check()).toEqual([]);
    expect([store.count(null), store.countLatest(null)]).toEqual([3, 1]);
    expect(store.latestByKey('k')!.latestId).toBe(b.id);

    expect(await store.update(a.id, { data: '"a2"' })).toBe(true); // older version: collection untouched
    expect(store.latestByKey('k')!.data).toBe('"v2"');
    expect(await store.update(b.id, { description: 'd' })).toBe(true); // latest: mirrored
    expect(store.latestByKey('k')!.description).toBe('d');
    expect(root.check()).toEqual([]);

    expect(await store.delete(b.id)).toBe(true); // latest gone: falls back to a
    const fallback = store.latestByKey('k')!;
    expect([fallback.latestId, fallback.data, fallback.created, fallback.type]).toEqual([a.id, '"a2"', a.created, 'markdown']);
    expect(root.check()).toEqual([]);
    expect([store.count(null), store.countLatest(null)]).toEqual([2, 1]);

    expect(await store.delete(a.id)).toBe(true); // last version: collection removed
    expect(store.latestByKey('k')).toBeUndefined();
    expect(await store.delete(c.id)).toBe(true);
    expect(await store.delete(c.id)).toBe(false);
    expect(await store.update(c.id, {})).toBe(false);
    expect(root.check()).toEqual([]);
    expect([store.count(null), store.countLatest(null)]).toEqual([0, 0]);
  });

  test('concurrent creates on shared keys commit together and stay consistent', async () => {
    const keys = ['a', 'b', 'c', 'd'];
    const created = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.create(artifact({ key: i % 5 === 0 ? null : keys[i % 4], data: String(i) }))),
    );
    expect(new Set(created.map((r) => r.id)).size).toBe(200);
    expect(root.check()).toEqual([]);
    expect([store.count(null), store.countLatest(null)]).toEqual([200, 4]);
    // The latest of each key is its last created version.
    for (const key of keys) {
      const newest = created.filter((r) => r.key === key).sort((x, y) => y.created - x.created)[0];
      expect(store.latestByKey(key)!.latestId).toBe(newest.id);
    }
    await Promise.all(created.filter((_, i) => i % 3 === 0).map((r) => store.delete(r.id)));
    expect(root.check()).toEqual([]);
    expect(store.count(null)).toBe(200 - created.filter((_, i) => i % 3 === 0).length);
  });

  test('acknowledged writes are on disk: a reopened store reads them back', async () => {
    const a = await store.create(artifact({ key: 'kept', data: '{"n":9007199254740993}' }));
    await root.close();
    root = Store.open(dir);
  store = root.artifacts;
    expect(store.get(a.id)).toEqual(a);
    expect(store.latestByKey('kept')!.latestId).toBe(a.id);
    expect(root.check()).toEqual([]);
  });

  test('created timestamps are strictly increasing, so versions have one order', async () => {
    const rows = await Promise.all(Array.from({ length: 50 }, () => store.create(artifact({ key: 'k' }))));
    const createdTimes = rows.map((r) => r.created);
    expect(new Set(createdTimes).size).toBe(50);
  });
});

describe('ids', () => {
  test('new artifacts get time-ordered UUIDs (version 7), so id-keyed tables grow at one edge', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await store.create(artifact({ key: 'k' }))).id);
      await Bun.sleep(2); // the leading 48 bits are milliseconds
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    const collection = store.latestByKey('k')!;
    expect(collection.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });
});
