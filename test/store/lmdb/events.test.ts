/**
 * The LMDB event store: every page of `find`, followed by its cursor to the end, equals the
 * brute-force answer (eventMatches over every stored event, sorted by occurred then id) on random
 * events and random queries — by ids, through the resource index (primary, any and related ids,
 * two or three lists at once), or through the occurred index — in both orders; `count` equals
 * the brute-force count; resent events are stored once; deleteBefore goes oldest first; counters
 * and check stay right throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { EventQuery } from '../../../src/store/contract.ts';
import { QueryDeadlineError } from '../../../src/store/errors.ts';
import type { EventRecord } from '../../../src/store/event-records.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { resourceKey } from '../../../src/store/lmdb/query/events.ts';
import { tempDir } from '../../helpers.ts';
import { BASE, bruteForce as bruteForceOf, event, expectPagesAndCount, uuid } from '../event-fixtures.ts';
import { seededRandom, testSeed } from '../seeded.ts';

const dirs: string[] = [];
const stores: LmdbStore[] = [];
function fresh(options?: { queryTimeoutMs?: number }): LmdbStore {
  const dir = tempDir();
  dirs.push(dir);
  const store = LmdbStore.open(dir, options);
  stores.push(store);
  return store;
}
afterAll(async () => {
  for (const store of stores) await store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const NAMES = ['prefect.task-run.Completed', 'prefect.task-run.Running', 'prefect.flow-run.Pending', 'prefect.artifact.created', 'custom.thing'];
const RESOURCES = ['prefect.task-run.a', 'prefect.task-run.b', 'prefect.flow-run.x', 'prefect.flow-run.y', 'prefect.flow.f', 'prefect.tag.etl', 'prefect.artifact.z'];
const ROLES = ['flow-run', 'flow', 'tag', 'task-run'];

function allEvents(store: LmdbStore): EventRecord[] {
  return [...store.dbs.events.getRange({})].map(({ value }) => value);
}

const bruteForce = (store: LmdbStore, q: EventQuery) => bruteForceOf(allEvents(store), q);

describe('find and count against brute force', () => {
  const seed = testSeed();
  const r = seededRandom(seed);
  let store: LmdbStore;
  let ids: string[] = [];
  beforeAll(async () => {
    store = fresh();
    const make = () => {
      const related: [string, string][] = [];
      for (let i = r.int(4); i > 0; i--) related.push([r.pick(RESOURCES), r.pick(ROLES)]);
      // Occurred on a coarse grid: many events share it, so ties are decided by id.
      return event(BASE + r.int(150) * 1000, r.pick(NAMES), r.pick(RESOURCES), related);
    };
    for (let batch = 0; batch < 6; batch++) await store.events.append(Array.from({ length: 100 }, make), []);
    ids = allEvents(store).map((e) => e.id);
  });

  function randomQuery(): EventQuery {
    const q: EventQuery = { since: BASE - 1000, until: BASE + 1_000_000, order: r.pick(['ASC', 'DESC']) };
    if (r.chance(0.4)) {
      const a = BASE + (r.int(170) - 10) * 1000;
      const b = BASE + (r.int(170) - 10) * 1000;
      [q.since, q.until] = a <= b ? [a, b] : [b, a];
    }
    const some = <T>(items: readonly T[], max = 3) => r.some(items, max);
    if (r.chance(0.08)) q.ids = [...some(ids, 6), uuid()];
    if (r.chance(0.2)) q.prefixes = some(['prefect.task-run.', 'prefect.flow', 'custom', 'nothing.'], 2);
    if (r.chance(0.15)) q.excludePrefixes = some(['prefect.task-run.', 'prefect.artifact', 'x'], 2);
    if (r.chance(0.15)) q.names = some([...NAMES, 'absent'], 3);
    if (r.chance(0.15)) q.excludeNames = some(NAMES, 2);
    if (r.chance(0.3)) q.resourceIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.15)) q.resourceIdPrefixes = some(['prefect.task-run.', 'prefect.flow', 'prefect.tag'], 2);
    if (r.chance(0.3)) q.anyResourceIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.15)) q.anyResourceIdPrefixes = some(['prefect.task-run.', 'prefect.flow-run.', 'prefect.tag'], 2);
    if (r.chance(0.3)) q.relatedIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.2)) q.relatedRoles = some([...ROLES, 'nobody'], 2);
    return q;
  }

  test(`random queries, every page and the count (seed ${seed})`, async () => {
    let lists = 0;
    let nonEmpty = 0;
    for (let i = 0; i < 300; i++) {
      const q = randomQuery();
      const limit = r.pick([1, 3, 10, 50]);
      const wanted = bruteForce(store, q);
      const context = `seed ${seed}, query ${i}: ${JSON.stringify({ ...q, ids: q.ids?.length })} limit ${limit}`;
      await expectPagesAndCount(store.events, q, wanted, limit, context);
      if ([q.resourceIds, q.anyResourceIds, q.relatedIds].filter((l) => l !== undefined).length >= 2) lists++;
      if (wanted.length > 0) nonEmpty++;
    }
    expect(lists).toBeGreaterThan(10);
    expect(nonEmpty).toBeGreaterThan(100);
  });

  test('a count of a time range alone: the counter for all of it, the index keys for part', async () => {
    const all = { since: BASE - 1, until: BASE + 10_000_000, order: 'ASC' } as const;
    expect(await store.events.count(all)).toBe(600);
    const part = { since: BASE + 20_000, until: BASE + 40_000, order: 'DESC' } as const;
    expect(await store.events.count(part)).toBe(bruteForce(store, part).length);
    expect(await store.events.count({ since: BASE + 1, until: BASE, order: 'ASC' })).toBe(0);
  });

  test('a cursor outside the time range, and a limit of 0', async () => {
    const q = { since: BASE + 20_000, until: BASE + 40_000, order: 'ASC' } as const;
    expect((await store.events.find(q, 10, { occurred: BASE + 50_000, id: ids[0] })).events).toEqual([]);
    const before = await store.events.find(q, 1000, { occurred: BASE, id: ids[0] });
    expect(before.events).toEqual(bruteForce(store, q));
    expect(await store.events.find(q, 0, null)).toEqual({ events: [], next: null });
  });

  test('counts and check agree with the events', () => {
    expect(store.counts().events).toBe(600);
    expect(store.check()).toEqual([]);
  });
});

test('an event resent, in a later batch or twice in one, is stored once', async () => {
  const store = fresh();
  const a = event(BASE, 'x', 'prefect.flow-run.x', [['prefect.flow.f', 'flow']]);
  const b = event(BASE + 1, 'y', 'prefect.flow-run.x');
  await store.events.append([a, a, b], []);
  // The resent copy differs (received later): the stored one stays.
  await store.events.append([{ ...a, received: a.received + 1, json: a.json.replace('"x"', '"changed"') }], []);
  expect(store.counts().events).toBe(2);
  expect(allEvents(store).map((e) => e.json).sort()).toEqual([a.json, b.json].sort());
  expect(store.check()).toEqual([]);
});

test('an event that names one resource as primary and related, or one related twice, has one resource entry for it', async () => {
  const store = fresh();
  const e = event(BASE, 'x', 'prefect.flow-run.x', [
    ['prefect.flow-run.x', 'flow-run'],
    ['prefect.flow.f', 'flow'],
    ['prefect.flow.f', 'other'],
  ]);
  await store.events.append([e], []);
  expect([...store.dbs.eventsByResource.getKeys({})]).toHaveLength(2);
  const q: EventQuery = { since: 0, until: BASE * 2, order: 'ASC', anyResourceIds: ['prefect.flow-run.x', 'prefect.flow.f'] };
  expect((await store.events.find(q, 10, null)).events).toEqual([e.json]);
  expect(await store.events.count(q)).toBe(1);
  expect(store.check()).toEqual([]);
});

test('a resource id too long for a key is found through its hash', async () => {
  const store = fresh();
  const long = `prefect.custom.${'x'.repeat(3000)}`;
  const e = event(BASE, 'x', long, [[`${long}-related`, 'r']]);
  await store.events.append([e, event(BASE, 'x', 'short')], []);
  for (const q of [{ resourceIds: [long] }, { relatedIds: [`${long}-related`] }, { anyResourceIds: [`${long}-related`] }]) {
    expect((await store.events.find({ since: 0, until: BASE * 2, order: 'DESC', ...q }, 5, null)).events).toEqual([e.json]);
  }
  expect(store.check()).toEqual([]);
});

test('deleteBefore deletes the oldest events first, with their index entries and counter', async () => {
  const store = fresh();
  const events = Array.from({ length: 200 }, (_, i) => event(BASE + ((i * 37) % 200), 'x', `r${i % 3}`, [[`q${i % 5}`, 'role']]));
  await store.events.append(events, []);
  expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(50);
  expect(Math.min(...allEvents(store).map((e) => e.occurred - BASE))).toBe(50);
  expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(30);
  expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(0);
  expect(Math.min(...allEvents(store).map((e) => e.occurred - BASE))).toBe(80);
  expect(store.counts().events).toBe(120);
  expect(store.check()).toEqual([]);
  const q: EventQuery = { since: 0, until: BASE * 2, order: 'ASC', relatedIds: ['q1'] };
  expect((await store.events.find(q, 50, null)).events).toEqual(bruteForce(store, q));
});

test('a long count stops at its deadline with QueryDeadlineError', async () => {
  const store = fresh({ queryTimeoutMs: 0 });
  await store.events.append(Array.from({ length: 3000 }, (_, i) => event(BASE + i, 'x', 'r')), []);
  await expect(store.events.count({ since: 0, until: BASE * 2, order: 'ASC', names: ['none'] })).rejects.toBeInstanceOf(QueryDeadlineError);
});

test('check reports a missing resource entry, a stray id entry, a misplaced record and a wrong counter', async () => {
  const store = fresh();
  const e = event(BASE, 'x', 'r', [['q', 'role']]);
  await store.events.append([e], []);
  const stray = uuid();
  store.dbs.env.transactionSync(() => {
    store.dbs.eventsByResource.remove([resourceKey('q'), BASE, e.id]);
    store.dbs.eventsById.put(stray, BASE);
    store.dbs.events.put([BASE + 1, e.id], e);
    store.dbs.counters.put('events', 3);
  });
  // The misplaced copy is reported where it lies, and its resource entry as missing too.
  expect(store.check()).toEqual([
    `events.byResource: record entry ${JSON.stringify([resourceKey('q'), BASE, e.id])} is missing`,
    `events: record stored under ${JSON.stringify([BASE + 1, e.id])} belongs under ${JSON.stringify([BASE, e.id])}`,
    `events.byResource: record entry ${JSON.stringify([resourceKey('q'), BASE, e.id])} is missing`,
    'counters: events is 3, real count 2',
    `events.byId: ${stray} names no event at ${BASE}`,
  ]);
});

test('resource keys: a 52-bit hash, the same for the same id', () => {
  const ids = ['prefect.flow-run.00000000-0000-4000-8000-000000000001', 'prefect.flow-run.00000000-0000-4000-8000-000000000002', '', 'x'.repeat(5000)];
  const keys = ids.map(resourceKey);
  expect(new Set(keys).size).toBe(ids.length);
  for (const key of keys) expect(Number.isSafeInteger(key) && key >= 0 && key < 2 ** 52).toBe(true);
  expect(ids.map(resourceKey)).toEqual(keys);
  // Pinned: the values are stored, so they must never change.
  expect([resourceKey('prefect.flow.abc'), resourceKey('')]).toEqual([1375739138302888, 3480089612033477]);
});
