/**
 * Layout version 9 (counters of artifacts and collections per type): creates, new versions that
 * change a key's type, deletes that fall back to an older version, and deletes of a last
 * version keep them exact; `check` sees a wrong one; a store written before them gets them on
 * open; counts by type answer from them and equal brute force.
 */
import { expect, test } from 'bun:test';
import { TYPE_COUNTERS } from '../../../src/store/lmdb/artifacts.ts';
import { typeCounter } from '../../../src/store/lmdb/keys.ts';
import type { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { expectUpgradedOnOpen, storePerTest } from './layout.ts';

const t = storePerTest();

async function seed(s: Store) {
  const create = (key: string | null, type: string | null) =>
    s.artifacts.create({ key, type, description: null, data: '1', metadata: null, flowRunId: null, taskRunId: null });
  await create('a', 'table');
  const aMarkdown = await create('a', 'markdown'); // a's latest moves from table to markdown
  await create('b', 'table');
  const bNull = await create('b', null);
  await create(null, 'link');
  const gone = await create('c', 'progress');
  await s.artifacts.delete(aMarkdown.id); // falls back: a is a table again
  await s.artifacts.delete(bNull.id); // falls back: b is a table again
  await s.artifacts.delete(gone.id); // c's collection goes
}

function expectCounts(s: Store) {
  const artifacts = (type: string | null) => s.dbs.counters.get(typeCounter('artifacts', type)) ?? 0;
  const collections = (type: string | null) => s.dbs.counters.get(typeCounter('collections', type)) ?? 0;
  expect([artifacts('table'), artifacts('markdown'), artifacts('link'), artifacts('progress'), artifacts(null)]).toEqual([2, 0, 1, 0, 0]);
  expect([collections('table'), collections('markdown'), collections('progress'), collections(null)]).toEqual([2, 0, 0, 0]);
  for (const types of [['table'], ['link', 'table'], ['markdown'], []]) {
    const all = s.artifacts.find(undefined, 'ID_DESC', { offset: 0, limit: 100 });
    expect(s.artifacts.count({ type: { any_: types } })).toBe(all.filter((r) => r.type !== null && types.includes(r.type)).length);
    expect(s.artifacts.count({ type: { not_any_: types } })).toBe(all.filter((r) => r.type !== null && !types.includes(r.type)).length);
    const latest = s.artifacts.findLatest(undefined, 'KEY_ASC', { offset: 0, limit: 100 });
    expect(s.artifacts.countLatest({ type: { any_: types } })).toBe(latest.filter((r) => r.type !== null && types.includes(r.type)).length);
    expect(s.artifacts.countLatest({ type: { not_any_: types } })).toBe(latest.filter((r) => r.type !== null && !types.includes(r.type)).length);
  }
}

test('every write path keeps the type counters exact, and counts by type answer from them', async () => {
  const store = t.store;
  await seed(store);
  expect(store.check()).toEqual([]);
  expectCounts(store);
});

test('check reports a wrong type counter', async () => {
  const store = t.store;
  await seed(store);
  store.dbs.env.transactionSync(() => store.dbs.counters.put(typeCounter('collections', 'markdown'), 1));
  expect(store.check()).toEqual([`counters: ${typeCounter('collections', 'markdown')} is 1, real count 0`]);
});

test('a store written at version 8 gets the type counters on open; the step is idempotent', async () => {
  const store = t.store;
  await seed(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.counters.remove(typeCounter('artifacts', 'table'));
    store.dbs.counters.put(typeCounter('collections', 'image'), 3);
    store.dbs.meta.put('schema', 8);
  });
  expect(store.check().length).toBe(2);
  await expectUpgradedOnOpen(t, TYPE_COUNTERS, expectCounts);
});
