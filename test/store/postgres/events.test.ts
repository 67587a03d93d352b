/**
 * Events on PostgreSQL (src/store/postgres/events.ts, event-queries.ts, task-run-observations.ts):
 *
 * - every page of `find`, followed by its cursor to the end, and `count` equal the brute-force
 *   answer (`eventMatches` over every stored event, sorted by occurred then id) on random events
 *   and random queries — names, prefixes (NUL, backslashes, the last code point), primary, any
 *   and related resources, roles, ids, time ranges, both orders, empty lists;
 * - resent events are stored once; deleteBefore goes oldest first, with the resource rows;
 * - task runs from observations: built in order, never moved backwards, unknown flow runs and
 *   taken keys skipped with the rest of the batch written, concurrent appends of one run from two
 *   instances keep the newest state and never deadlock;
 * - a sub-flow run's parent task run follows set_state;
 * - counts() and check() throughout; migration 3 over a version-2 database that holds data.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { EventQuery, ObservedTaskRunFields, TaskRunObservation } from '../../../src/store/contract.ts';
import type { EventRecord } from '../../../src/store/event-records.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { prefixEnd } from '../../../src/store/postgres/event-queries.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../src/store/postgres/migrations.ts';
import { PostgresStore } from '../../../src/store/postgres/store.ts';
import { buildState } from '../../../src/store/states.ts';
import { nowMicros } from '../../../src/time.ts';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { BASE, bruteForce as bruteForceOf, event, expectPagesAndCount, uuid } from '../event-fixtures.ts';
import { seededRandom, testSeed } from '../seeded.ts';

const url = await testDatabaseUrl();

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(prefix: string, max = 4): Promise<PostgresStore> {
  const fresh = await freshDatabase(prefix);
  cleanups.push(() => fresh.drop());
  const store = await PostgresStore.open(fresh.url, { max });
  cleanups.push(() => store.close());
  return store;
}

async function openTwo(prefix: string, max = 6): Promise<[PostgresStore, PostgresStore]> {
  const fresh = await freshDatabase(prefix);
  cleanups.push(() => fresh.drop());
  const a = await PostgresStore.open(fresh.url, { max });
  const b = await PostgresStore.open(fresh.url, { max });
  cleanups.push(() => a.close(), () => b.close());
  return [a, b];
}

const seed = testSeed();

const MAX = String.fromCodePoint(0x10ffff);
const NAMES = [
  'prefect.task-run.Completed',
  'prefect.task-run.Running',
  'prefect.flow-run.Pending',
  'prefect.artifact.created',
  'custom.thing',
  'a\\b',
  'a\0b',
  'a',
  'é.x',
  `z${MAX}`,
  `z${MAX}${MAX}q`,
  '\uD7FFx',
  '',
];
const PREFIXES = ['prefect.task-run.', 'prefect.flow', 'custom', 'nothing.', '', 'a\\', 'a\0', 'a', 'é', `z${MAX}`, '\uD7FF', 'prefect.task-run.Completed'];
const RESOURCES = ['prefect.task-run.a', 'prefect.task-run.b', 'prefect.flow-run.x', 'prefect.flow-run.y', 'prefect.flow.f', 'prefect.tag.etl', 'prefect.artifact.z', 'r\\1', 'r\0', `r${MAX}`];
const RESOURCE_PREFIXES = ['prefect.task-run.', 'prefect.flow', 'prefect.tag', 'r\\', 'r\0', 'r', `r${MAX}`, ''];
const ROLES = ['flow-run', 'flow', 'tag', 'task-run', 'r\0le'];

const bruteForce = bruteForceOf;

test('prefixEnd: the least string past every string with the prefix, in code point order', () => {
  expect(prefixEnd('abc')).toBe('abd');
  expect(prefixEnd('a\uD7FF')).toBe('a\uE000');
  expect(prefixEnd(`a${MAX}`)).toBe('b');
  expect(prefixEnd(`${MAX}${MAX}`)).toBeNull();
  expect(prefixEnd('\u{1F600}')).toBe('\u{1F601}');
  expect(prefixEnd('')).toBeNull();
});

describe.skipIf(url === null)('events: find and count against brute force', () => {
  const r = seededRandom(seed);
  let store: PostgresStore;
  const stored: EventRecord[] = [];
  let ids: string[] = [];

  beforeAll(async () => {
    store = await open('events_diff');
    const make = () => {
      const related: [string, string][] = [];
      for (let i = r.int(4); i > 0; i--) related.push([r.pick(RESOURCES), r.pick(ROLES)]);
      // Occurred on a coarse grid: many events share it, so ties are decided by id.
      return event(BASE + r.int(150) * 1000, r.pick(NAMES), r.pick(RESOURCES), related);
    };
    for (let batch = 0; batch < 6; batch++) {
      const events = Array.from({ length: 100 }, make);
      await store.events.append(events, []);
      stored.push(...events);
    }
    ids = stored.map((e) => e.id);
  });

  function randomQuery(): EventQuery {
    const q: EventQuery = { since: BASE - 1000, until: BASE + 1_000_000, order: r.pick(['ASC', 'DESC']) };
    if (r.chance(0.4)) {
      const a = BASE + (r.int(170) - 10) * 1000 + r.pick([0, 0, 1, -1]);
      const b = BASE + (r.int(170) - 10) * 1000 + r.pick([0, 0, 1, -1]);
      [q.since, q.until] = a <= b ? [a, b] : [b, a];
    }
    const some = <T>(items: readonly T[], max = 3) => r.some(items, max);
    if (r.chance(0.08)) q.ids = [...some(ids, 6), uuid()];
    if (r.chance(0.03)) q.ids = [];
    if (r.chance(0.25)) q.prefixes = some(PREFIXES, 2);
    if (r.chance(0.15)) q.excludePrefixes = some(PREFIXES, 2);
    if (r.chance(0.15)) q.names = some([...NAMES, 'absent'], 3);
    if (r.chance(0.15)) q.excludeNames = some(NAMES, 2);
    if (r.chance(0.3)) q.resourceIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.15)) q.resourceIdPrefixes = some(RESOURCE_PREFIXES, 2);
    if (r.chance(0.3)) q.anyResourceIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.15)) q.anyResourceIdPrefixes = some(RESOURCE_PREFIXES, 2);
    if (r.chance(0.3)) q.relatedIds = some([...RESOURCES, 'absent'], 3);
    if (r.chance(0.2)) q.relatedRoles = some([...ROLES, 'nobody', ''], 2);
    return q;
  }

  test(`random queries, every page and the count (seed ${seed})`, async () => {
    let lists = 0;
    let nonEmpty = 0;
    for (let i = 0; i < 300; i++) {
      const q = randomQuery();
      const wanted = bruteForce(stored, q);
      const limit = wanted.length > 100 ? r.pick([10, 50]) : r.pick([1, 3, 10, 50]); // pages of 1 through 600 events would take long
      const context = `seed ${seed}, query ${i}: ${JSON.stringify({ ...q, ids: q.ids?.length })} limit ${limit}`;
      await expectPagesAndCount(store.events, q, wanted, limit, context);
      if ([q.resourceIds, q.anyResourceIds, q.relatedIds].filter((l) => l !== undefined).length >= 2) lists++;
      if (wanted.length > 0) nonEmpty++;
    }
    expect(lists).toBeGreaterThan(10);
    expect(nonEmpty).toBeGreaterThan(100);
  });

  test('every prefix and name of the data, alone, in both orders', async () => {
    for (const order of ['ASC', 'DESC'] as const) {
      for (const q of [
        ...PREFIXES.map((p) => ({ prefixes: [p] })),
        ...PREFIXES.map((p) => ({ excludePrefixes: [p] })),
        ...NAMES.map((n) => ({ names: [n] })),
        ...RESOURCE_PREFIXES.map((p) => ({ resourceIdPrefixes: [p] })),
        ...RESOURCE_PREFIXES.map((p) => ({ anyResourceIdPrefixes: [p] })),
        ...ROLES.map((role) => ({ relatedRoles: [role] })),
        { prefixes: [] },
        { excludePrefixes: [] },
        { names: [] },
        { excludeNames: [] },
        { resourceIds: [] },
        { anyResourceIds: [] },
        { relatedIds: [] },
        { relatedRoles: [] },
      ]) {
        const query: EventQuery = { since: BASE - 1, until: BASE + 10_000_000, order, ...q };
        const wanted = bruteForce(stored, query);
        expect({ q, events: (await store.events.find(query, 1000, null)).events }).toEqual({ q, events: wanted });
        expect({ q, n: await store.events.count(query) }).toEqual({ q, n: wanted.length });
      }
    }
  });

  test('a cursor outside the time range, and a limit of 0', async () => {
    const q = { since: BASE + 20_000, until: BASE + 40_000, order: 'ASC' } as const;
    expect((await store.events.find(q, 10, { occurred: BASE + 50_000, id: ids[0] })).events).toEqual([]);
    const before = await store.events.find(q, 1000, { occurred: BASE, id: ids[0] });
    expect(before.events).toEqual(bruteForce(stored, q));
    expect(await store.events.find(q, 0, null)).toEqual({ events: [], next: null });
    expect(await store.events.count({ since: BASE + 1, until: BASE, order: 'ASC' })).toBe(0);
  });

  test('counts and check agree with the events', async () => {
    expect((await store.counts()).events).toBe(600);
    expect(await store.check()).toEqual([]);
  });
});

describe.skipIf(url === null)('events: writes', () => {
  test('an event resent, in a later batch or twice in one, is stored once (the first copy)', async () => {
    const store = await open('events_resent');
    const a = event(BASE, 'x', 'prefect.flow-run.x', [['prefect.flow.f', 'flow']]);
    const b = event(BASE + 1, 'y', 'prefect.flow-run.x');
    await store.events.append([a, { ...a, json: a.json.replace('"x"', '"first-in-batch-wins"') }, b], []);
    await store.events.append([{ ...a, received: a.received + 1, json: a.json.replace('"x"', '"changed"') }], []);
    const q: EventQuery = { since: 0, until: BASE * 2, order: 'ASC' };
    expect((await store.events.find(q, 10, null)).events).toEqual([a.json, b.json]);
    expect((await store.counts()).events).toBe(2);
    expect(await store.check()).toEqual([]);
  });

  test('the same events from two instances at once are each stored once', async () => {
    const [a, b] = await openTwo('events_twice');
    const many = Array.from({ length: 200 }, (_, i) => event(BASE + i, 'z', `r${i % 7}`, [[`q${i % 3}`, 'role']]));
    await Promise.all([a.events.append(many, []), b.events.append([...many].reverse(), []), a.events.append(many.slice(50, 120), []), b.events.append(many.slice(100), [])]);
    expect((await a.counts()).events).toBe(200);
    expect(await a.events.count({ since: 0, until: BASE * 2, order: 'ASC', relatedIds: ['q1'] })).toBe(bruteForce(many, { since: 0, until: BASE * 2, order: 'ASC', relatedIds: ['q1'] }).length);
    expect(await a.check()).toEqual([]);
  });

  test('one resource named as primary and related, or related twice, matches once', async () => {
    const store = await open('events_same_resource');
    const e = event(BASE, 'x', 'prefect.flow-run.x', [
      ['prefect.flow-run.x', 'flow-run'],
      ['prefect.flow.f', 'flow'],
      ['prefect.flow.f', 'other'],
    ]);
    await store.events.append([e], []);
    const q: EventQuery = { since: 0, until: BASE * 2, order: 'ASC', anyResourceIds: ['prefect.flow-run.x', 'prefect.flow.f'] };
    expect((await store.events.find(q, 10, null)).events).toEqual([e.json]);
    expect(await store.events.count(q)).toBe(1);
    expect(await store.events.count({ ...q, anyResourceIds: undefined, relatedIds: ['prefect.flow.f'] })).toBe(1);
    expect(await store.check()).toEqual([]);
  });

  test('deleteBefore deletes the oldest events first, with their resource rows and counter', async () => {
    const store = await open('events_delete');
    const events = Array.from({ length: 200 }, (_, i) => event(BASE + ((i * 37) % 200), 'x', `r${i % 3}`, [[`q${i % 5}`, 'role']]));
    await store.events.append(events, []);
    const q: EventQuery = { since: 0, until: BASE * 2, order: 'ASC' };
    const oldest = async () => Number((await store.db.unsafe<{ m: string }>('SELECT min(occurred)::text AS m FROM event'))[0].m) - BASE;
    expect(await store.events.deleteBefore(BASE + 80, 0)).toBe(0);
    expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(50);
    expect(await oldest()).toBe(50);
    expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(30);
    expect(await store.events.deleteBefore(BASE + 80, 50)).toBe(0);
    expect(await oldest()).toBe(80);
    expect((await store.counts()).events).toBe(120);
    expect(await store.check()).toEqual([]);
    const [orphans] = await store.db.unsafe<{ n: string }>('SELECT count(*)::text AS n FROM event_resource');
    expect(Number(orphans.n)).toBe(240);
    const left = events.filter((e) => e.occurred >= BASE + 80);
    const related: EventQuery = { ...q, relatedIds: ['q1'] };
    expect((await store.events.find(related, 50, null)).events).toEqual(bruteForce(left, related));
  });

  test('a count of a time range alone: the counter when the range holds every event, the rows otherwise', async () => {
    const store = await open('events_count');
    const events = Array.from({ length: 50 }, (_, i) => event(BASE + i * 10, 'x', `r${i % 3}`));
    await store.events.append(events, []);
    const all: EventQuery = { since: BASE, until: BASE + 490, order: 'DESC' };
    expect(await store.events.count(all)).toBe(50);
    expect(await store.events.count({ ...all, since: BASE + 1 })).toBe(49);
    expect(await store.events.count({ ...all, until: BASE + 489 })).toBe(49);
    expect(await store.events.count({ since: BASE + 100, until: BASE + 200, order: 'ASC' })).toBe(11);
    // A wrong counter shows only where the counter answers: proof that it does.
    await store.db.unsafe(`UPDATE artifactd_counter SET n = n + 100 WHERE name = 'event' AND shard = 0`);
    expect(await store.events.count({ ...all, since: 0, until: BASE * 2 })).toBe(150);
    expect(await store.events.count({ ...all, since: BASE + 1 })).toBe(49);
    expect(await store.events.count({ ...all, names: ['x'] })).toBe(50);
  });

  test('check reports resource rows that disagree with their event', async () => {
    const store = await open('events_check');
    const e = event(BASE, 'x', 'r', [['q', 'role']]);
    const f = event(BASE, 'y', 's');
    await store.events.append([e, f], []);
    await store.db.unsafe(`DELETE FROM event_resource WHERE event_id = $1 AND ordinal = 1`, [e.id]);
    await store.db.unsafe(`UPDATE event_resource SET resource_id = 'other' WHERE event_id = $1`, [f.id]);
    await store.db.unsafe(`INSERT INTO event_resource VALUES ('gone', 0, 'r', '', 1)`);
    expect(await store.check()).toEqual([
      'events: resource rows of gone, which is not stored',
      `events: ${e.id} does not have exactly its resource rows`,
      `events: ${f.id} does not have exactly its resource rows`,
    ]);
  });
});

// ── task runs from events ──────────────────────────────────────────────────────────────────

async function flowRun(store: PostgresStore, extra: Record<string, unknown> = {}) {
  const flow = (await store.flows.create({ name: `f-${uuid()}`, tags: [] } as never)).record;
  return (await store.flowRuns.create({ flow_id: flow.id, name: 'r', ...extra } as never)).record;
}

/** What the recorder makes of one `prefect.task-run.<name>` event at `at` µs. */
function observed(taskRunId: string, flowRunId: string | null, type: string, name: string, at: number, fields: ObservedTaskRunFields = {}): TaskRunObservation {
  const state = { ...buildState({ type, name } as never, at, { flowRunId, taskRunId }), id: uuid() };
  return { id: taskRunId, flow_run_id: flowRunId, fields: { name: 'work-0', task_key: 'work', dynamic_key: '0', ...fields }, state };
}

const stateCount = (store: PostgresStore, type: string) => store.taskRuns.count({ task_runs: { state: { type: { any_: [type] } } } } as never);

describe.skipIf(url === null)('events: task runs from observations', () => {
  test('events in order build the run: created by the first, moved by each newer one', async () => {
    const store = await open('observe_order');
    const run = await flowRun(store);
    const task = uuid();
    await store.events.append([], [observed(task, run.id, 'PENDING', 'Pending', BASE)]);
    expect(await store.taskRuns.get(task)).toMatchObject({ flow_run_id: run.id, name: 'work-0', task_key: 'work', state_type: 'PENDING' });
    await store.events.append([], [observed(task, run.id, 'RUNNING', 'Running', BASE + 10, { run_count: 1, start_time: BASE + 10 })]);
    const completed = observed(task, run.id, 'COMPLETED', 'Completed', BASE + 20, { run_count: 1, start_time: BASE + 10, end_time: BASE + 20, total_run_time: 0.00001, tags: ['etl'] });
    await store.events.append([], [completed]);
    const stored = (await store.taskRuns.get(task))!;
    expect(stored).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed', state_id: completed.state.id, run_count: 1, end_time: BASE + 20, tags: ['etl'] });
    expect(stored.state).toMatchObject({ id: completed.state.id, timestamp: BASE + 20, state_details: { task_run_id: task, flow_run_id: run.id } });
    expect((await store.counts()).taskRuns).toBe(1);
    expect(await stateCount(store, 'COMPLETED')).toBe(1);
    expect(await stateCount(store, 'PENDING')).toBe(0);
    // The columns the filters read moved with the record.
    expect(await store.taskRuns.count({ task_runs: { tags: { all_: ['etl'] }, name: { any_: ['work-0'] } } } as never)).toBe(1);
    expect(await store.check()).toEqual([]);
  });

  test('events out of order never move a run backwards; a late Pending and a duplicate change nothing', async () => {
    const store = await open('observe_late');
    const run = await flowRun(store);
    const task = uuid();
    const pending = observed(task, run.id, 'PENDING', 'Pending', BASE);
    const running = observed(task, run.id, 'RUNNING', 'Running', BASE + 10, { run_count: 1 });
    const completed = observed(task, run.id, 'COMPLETED', 'Completed', BASE + 20, { run_count: 1, end_time: BASE + 20 });
    await store.events.append([], [completed]);
    const after = await store.taskRuns.get(task);
    await store.events.append([], [running]);
    await store.events.append([], [pending]);
    await store.events.append([], [completed]);
    expect(await store.taskRuns.get(task)).toEqual(after);
    expect(after!.state_type).toBe('COMPLETED');
    // In one batch, in any order, the newest wins too.
    const other = uuid();
    await store.events.append([], [observed(other, run.id, 'COMPLETED', 'Completed', BASE + 20, { dynamic_key: '1' }), observed(other, run.id, 'RUNNING', 'Running', BASE + 10, { dynamic_key: '1' })]);
    expect((await store.taskRuns.get(other))!.state_type).toBe('COMPLETED');
    // Several in one batch build on each other: the fields of the first stay unless a newer one sets them.
    const third = uuid();
    await store.events.append(
      [],
      [
        observed(third, run.id, 'PENDING', 'Pending', BASE, { dynamic_key: '2', tags: ['a'] }),
        observed(third, run.id, 'RUNNING', 'Running', BASE + 1, { dynamic_key: '2', run_count: 1 }),
      ],
    );
    expect(await store.taskRuns.get(third)).toMatchObject({ tags: ['a'], run_count: 1, state_type: 'RUNNING' });
    expect((await store.counts()).taskRuns).toBe(3);
    expect(await store.check()).toEqual([]);
  });

  test('an unknown flow run or keys taken by another run skip that observation; the rest of the batch is written', async () => {
    const store = await open('observe_skip');
    const run = await flowRun(store);
    const owner = (await store.taskRuns.create({ flow_run_id: run.id, task_key: 'work', dynamic_key: '0', name: 'work-0' } as never)).record;
    const [unknownRun, taken, fine, orphan] = [uuid(), uuid(), uuid(), uuid()];
    const e = event(BASE, 'prefect.task-run.Running', `prefect.task-run.${fine}`);
    await store.events.append(
      [e],
      [
        observed(unknownRun, uuid(), 'RUNNING', 'Running', BASE),
        observed(taken, run.id, 'RUNNING', 'Running', BASE),
        observed(fine, run.id, 'RUNNING', 'Running', BASE, { dynamic_key: '1' }),
        observed(orphan, null, 'RUNNING', 'Running', BASE),
        // Two new runs of the batch wanting the same keys: the first has them.
        observed(uuid(), run.id, 'PENDING', 'Pending', BASE, { dynamic_key: '9' }),
        observed(uuid(), run.id, 'PENDING', 'Pending', BASE, { dynamic_key: '9' }),
      ],
    );
    expect(await store.taskRuns.get(unknownRun)).toBeUndefined();
    expect(await store.taskRuns.get(taken)).toBeUndefined();
    expect(await store.taskRuns.get(fine)).toMatchObject({ flow_run_id: run.id, state_type: 'RUNNING' });
    expect(await store.taskRuns.get(orphan)).toMatchObject({ flow_run_id: null, state_type: 'RUNNING' });
    expect(await store.taskRuns.count({ task_runs: { flow_run_id: { any_: [run.id] } } } as never)).toBe(3); // owner, fine, one of the two
    expect((await store.counts()).events).toBe(1);
    // The owner's own events go through.
    await store.events.append([], [observed(owner.id, run.id, 'COMPLETED', 'Completed', nowMicros() + 1_000_000)]);
    expect((await store.taskRuns.get(owner.id))!.state_type).toBe('COMPLETED');
    // A stored run moved onto another run's keys is skipped; moved onto free keys it moves.
    await store.events.append([], [observed(fine, run.id, 'COMPLETED', 'Completed', BASE + 5, { dynamic_key: '0' })]);
    expect(await store.taskRuns.get(fine)).toMatchObject({ dynamic_key: '1', state_type: 'RUNNING' });
    const other = await flowRun(store);
    await store.events.append([], [observed(fine, other.id, 'COMPLETED', 'Completed', BASE + 5, { task_key: 'moved', dynamic_key: '7' })]);
    expect(await store.taskRuns.get(fine)).toMatchObject({ flow_run_id: other.id, task_key: 'moved', state_type: 'COMPLETED' });
    expect((await store.taskRuns.create({ flow_run_id: run.id, task_key: 'work', dynamic_key: '1' } as never)).created).toBe(true); // its old keys are free
    expect((await store.taskRuns.create({ flow_run_id: other.id, task_key: 'moved', dynamic_key: '7' } as never)).record.id).toBe(fine);
    expect(await store.check()).toEqual([]);
  });

  test('events and their observations are written together; a resent event still applies its observation', async () => {
    const store = await open('observe_together');
    const run = await flowRun(store);
    const task = uuid();
    const make = (name: string, at: number) => event(at, `prefect.task-run.${name}`, `prefect.task-run.${task}`, [[`prefect.flow-run.${run.id}`, 'flow-run']]);
    const running = make('Running', BASE);
    const observation = observed(task, run.id, 'RUNNING', 'Running', BASE);
    observation.state.id = running.id;
    await store.events.append([running], [observation]);
    expect(await store.counts()).toMatchObject({ events: 1, taskRuns: 1 });
    const completed = make('Completed', BASE + 5);
    await store.events.append([running, completed], [observed(task, run.id, 'COMPLETED', 'Completed', BASE + 5)]);
    expect(await store.counts()).toMatchObject({ events: 2, taskRuns: 1 });
    expect((await store.taskRuns.get(task))!.state_type).toBe('COMPLETED');
    const q = { since: 0, until: BASE * 2, order: 'ASC' as const, relatedIds: [`prefect.flow-run.${run.id}`] };
    expect((await store.events.find(q, 10, null)).events).toEqual([running.json, completed.json]);
    // A failing batch writes nothing: neither its events nor its task runs.
    const broken = observed(uuid(), run.id, 'RUNNING', 'Running', BASE, { dynamic_key: '5' });
    (broken.fields as Record<string, unknown>).tags = 'not a list' as never;
    await expect(store.events.append([make('Failed', BASE + 9)], [broken])).rejects.toThrow();
    expect(await store.counts()).toMatchObject({ events: 2, taskRuns: 1 });
    expect(await store.check()).toEqual([]);
  });

  test('two instances appending the same runs at once: no deadlock, the newest state wins, each run once', async () => {
    const [a, b] = await openTwo('observe_race');
    // Deadlocks PostgreSQL broke (and writeTransaction retried): none may happen.
    let deadlocks = 0;
    for (const store of [a, b]) {
      const transaction = store.db.transaction.bind(store.db);
      store.db.transaction = (fn) =>
        transaction(fn).catch((error) => {
          if ((error as { errno?: string }).errno === '40P01') deadlocks++;
          throw error;
        });
    }
    const run = await flowRun(a);
    const tasks = Array.from({ length: 30 }, () => uuid());
    const TYPES = [['PENDING', 'Pending'], ['RUNNING', 'Running'], ['COMPLETED', 'Completed']] as const;
    // Every run's three states, each sent by both instances, in batches holding several runs in shuffled orders.
    const r = seededRandom(seed + 1);
    const all = tasks.flatMap((task, k) => TYPES.map(([type, name], i) => observed(task, run.id, type, name, BASE + i * 10, { dynamic_key: String(k) })));
    const batches = () => {
      const list = [...all].sort(() => r.int(3) - 1);
      const out: TaskRunObservation[][] = [];
      for (let i = 0; i < list.length; ) {
        const n = 1 + r.int(6);
        out.push(list.slice(i, i + n));
        i += n;
      }
      return out;
    };
    await Promise.all([...batches().map((batch) => a.events.append([], batch)), ...batches().map((batch) => b.events.append([], batch))]);
    for (const [k, task] of tasks.entries()) {
      const stored = (await a.taskRuns.get(task))!;
      expect(stored).toMatchObject({ state_type: 'COMPLETED', dynamic_key: String(k), flow_run_id: run.id });
      expect(stored.state!.timestamp).toBe(BASE + 20);
    }
    expect((await a.counts()).taskRuns).toBe(tasks.length);
    expect(deadlocks).toBe(0);
    expect(await a.check()).toEqual([]);
  });
});

describe.skipIf(url === null)("a sub-flow run's parent task run", () => {
  test('follows its states in the same transaction', async () => {
    const store = await open('subflow_parent');
    const parent = await flowRun(store);
    const task = (await store.taskRuns.create({ flow_run_id: parent.id, task_key: 'child', dynamic_key: '0', name: 'child-0' } as never)).record;
    const child = await flowRun(store, { parent_task_run_id: task.id });
    const running = (await store.flowRuns.setState(child.id, { type: 'RUNNING' } as never))!;
    let followed = (await store.taskRuns.get(task.id))!;
    expect(followed).toMatchObject({ state_type: 'RUNNING', state_name: 'Running', run_count: 1 });
    expect(followed.start_time).not.toBeNull();
    // A copy of the state: its own id and time, pointing at the sub-flow run.
    expect(followed.state!.id).not.toBe(running.state!.id);
    expect(followed.state!.state_details).toMatchObject({ flow_run_id: parent.id, task_run_id: task.id, child_flow_run_id: child.id });
    expect(followed.state_id).toBe(followed.state!.id);
    expect(await stateCount(store, 'RUNNING')).toBe(1);
    await store.flowRuns.setState(child.id, { type: 'COMPLETED' } as never);
    followed = (await store.taskRuns.get(task.id))!;
    expect(followed).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed' });
    expect(followed.end_time).not.toBeNull();
    expect(await stateCount(store, 'COMPLETED')).toBe(1);
    expect(await store.check()).toEqual([]);
    // The parent run's own state changes touch no task run; a run whose parent task is gone changes alone.
    await store.flowRuns.setState(parent.id, { type: 'FAILED' } as never);
    expect((await store.taskRuns.get(task.id))!.state_type).toBe('COMPLETED');
    await store.taskRuns.delete(task.id);
    expect((await store.flowRuns.setState(child.id, { type: 'RUNNING' } as never))!.state_type).toBe('RUNNING');
    expect(await store.check()).toEqual([]);
  });

  test('set_state of sub-flow runs racing deletes of their parent task runs: no deadlock, no lost link', async () => {
    const store = await open('subflow_race', 8);
    const parent = await flowRun(store);
    const pairs = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const task = (await store.taskRuns.create({ flow_run_id: parent.id, task_key: 'child', dynamic_key: String(i), name: `child-${i}` } as never)).record;
        const child = await flowRun(store, { parent_task_run_id: task.id });
        return { task, child };
      }),
    );
    // Each sub-flow run's states in order; meanwhile every other parent task run is deleted.
    await Promise.all(
      pairs.flatMap(({ task, child }, i) => [
        (async () => {
          for (const type of ['PENDING', 'RUNNING', 'COMPLETED']) await store.flowRuns.setState(child.id, { type } as never);
        })(),
        i % 2 === 0 ? store.taskRuns.delete(task.id) : Promise.resolve(),
      ]),
    );
    for (const [i, { task, child }] of pairs.entries()) {
      const run = (await store.flowRuns.get(child.id))!;
      expect(run.state_type).toBe('COMPLETED');
      if (i % 2 === 0) {
        expect(await store.taskRuns.get(task.id)).toBeUndefined();
        expect(run.parent_task_run_id).toBeNull();
      } else {
        expect((await store.taskRuns.get(task.id))!.state_type).toBe('COMPLETED');
      }
    }
    expect(await store.check()).toEqual([]);
  });
});

describe.skipIf(url === null)('migration 3', () => {
  test('applies to a database at version 2 that holds data; logs and events then count from zero', async () => {
    const fresh = await freshDatabase('migrate_v2');
    cleanups.push(() => fresh.drop());
    const db = new Db(fresh.url);
    cleanups.push(() => db.close());
    await migrate(db, MIGRATIONS.slice(0, 2));
    await db.unsafe(`INSERT INTO artifact (id, created, updated, data) SELECT 'a' || g, g, g, '1' FROM generate_series(1, 300) g`);
    await db.unsafe(`INSERT INTO flow (id, created, updated, name, name_key, tags, record) VALUES ('f1', 1, 1, 'f', '\\x0066', '{}', '{}')`);
    expect(await migrate(db)).toEqual({ from: 2, to: SCHEMA_VERSION, applied: [3] });
    const store = await PostgresStore.open(fresh.url, { max: 2 });
    cleanups.push(() => store.close());
    expect(await store.counts()).toMatchObject({ artifacts: 300, flows: 1, logs: 0, events: 0 });
    await store.logs.append([{ name: 'n', level: 20, message: 'm', timestamp: BASE, flow_run_id: null, task_run_id: null }]);
    await store.events.append([event(BASE, 'x', 'r', [['q', 'role']])], []);
    expect(await store.counts()).toMatchObject({ artifacts: 300, flows: 1, logs: 1, events: 1 });
    expect(await store.check()).toEqual([]);
  });
});
