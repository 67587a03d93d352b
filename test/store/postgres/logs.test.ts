/**
 * Logs on PostgreSQL (src/store/postgres/logs.ts, log-filters.ts): the SQL of every LogFilter,
 * sort and page checked against the brute-force meaning (`compileLogFilter` over every stored
 * line, sorted by timestamp then id) on random lines and random filters; exact round trips of
 * any text; retention oldest first; counts() and check() after appends and deletes, including
 * appends from two instances at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { compileLogFilter } from '../../../src/filters/logs.ts';
import type { LogFilter, LogSort } from '../../../src/schemas/logs.ts';
import type { LogRecord, NewLog } from '../../../src/store/log-records.ts';
import { PostgresStore } from '../../../src/store/postgres/store.ts';
import { formatMicros } from '../../../src/time.ts';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';

const url = await testDatabaseUrl();

let seed = Number(process.env.DIFF_SEED ?? 1414);
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const chance = (p: number) => random() < p;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (n: number) => Math.floor(random() * n);

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const FLOW_RUNS = [uuid(1), uuid(2), uuid(3)];
const TASK_RUNS = [uuid(11), uuid(12), uuid(13), uuid(14)];
const LEVELS = [10, 20, 20, 20, 30, 40, 50, 25, -5];
const T0 = Date.UTC(2026, 3, 1) * 1000;
/** Few distinct timestamps, so that ties (ordered by id) are common. */
const TIMES = Array.from({ length: 40 }, (_, i) => T0 + i * 1_000_000 + (i % 3) * 7);
const TEXTS = ['Finished in state Completed()', 'a\\b', 'nul\0here', '\\0', 'é', 'x\u{1F600}y', '', 'line\nbreak', '"quoted"'];

function randomLog(): NewLog {
  return {
    name: pick(['prefect.flow_runs', 'prefect.task_runs', 'a\\b\0c']),
    level: pick(LEVELS),
    message: pick(TEXTS) + String(int(1000)),
    timestamp: pick(TIMES),
    flow_run_id: chance(0.85) ? pick(FLOW_RUNS) : null,
    task_run_id: chance(0.5) ? pick(TASK_RUNS) : null,
  };
}

/** A time near the data: an existing one (bounds are inclusive), or one a µs beside it. */
const aTime = () => formatMicros(pick(TIMES) + pick([0, 0, -1, 1]));
const ids = (pool: string[]) => Array.from({ length: int(3) }, () => pick([...pool, uuid(99)]));

function randomFilter(): LogFilter | null {
  if (chance(0.05)) return null;
  const f: Record<string, unknown> = {};
  if (chance(0.3)) f.operator = pick(['and_', 'or_']);
  if (chance(0.4)) f.level = { ge_: chance(0.6) ? pick(LEVELS) : null, le_: chance(0.5) ? pick(LEVELS) : undefined };
  if (chance(0.4)) f.timestamp = { before_: chance(0.6) ? aTime() : null, after_: chance(0.6) ? aTime() : undefined };
  if (chance(0.35)) f.flow_run_id = chance(0.9) ? { any_: ids(FLOW_RUNS) } : {};
  if (chance(0.35)) {
    const sub: Record<string, unknown> = {};
    if (chance(0.6)) sub.any_ = ids(TASK_RUNS);
    if (chance(0.5)) sub.is_null_ = chance(0.5);
    f.task_run_id = sub;
  }
  return f as LogFilter;
}

const order = (sort: LogSort) => (a: LogRecord, b: LogRecord) => {
  const c = a.timestamp !== b.timestamp ? a.timestamp - b.timestamp : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  return sort === 'TIMESTAMP_ASC' ? c : -c;
};

const without = ({ id: _id, created: _created, ...rest }: LogRecord): NewLog => rest;
const byContent = (a: NewLog, b: NewLog) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

describe.skipIf(url === null)('logs on PostgreSQL', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let store: PostgresStore;
  const appended: NewLog[] = [];
  let stored: LogRecord[] = [];

  beforeAll(async () => {
    fresh = await freshDatabase('logs');
    store = await PostgresStore.open(fresh.url, { max: 4 });
    for (let i = 0; i < 25; i++) {
      const batch = Array.from({ length: 1 + int(60) }, randomLog);
      expect(await store.logs.append(batch)).toBe(batch.length);
      appended.push(...batch);
    }
    stored = await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 0, limit: 100_000 });
  });

  afterAll(async () => {
    await store?.close();
    await fresh?.drop();
  });

  test('every line comes back exactly (NUL, backslashes, unicode), each under a fresh id', async () => {
    expect(stored.length).toBe(appended.length);
    expect(stored.map(without).sort(byContent)).toEqual([...appended].sort(byContent));
    expect(new Set(stored.map((l) => l.id)).size).toBe(stored.length);
    const now = Date.now() * 1000;
    for (const l of stored) expect(Math.abs(l.created - now)).toBeLessThan(120_000_000);
    expect(await store.logs.append([])).toBe(0);
  });

  test('random filters, sorts and pages equal compileLogFilter over every line', async () => {
    let nonEmpty = 0;
    for (let i = 0; i < 400; i++) {
      const filter = randomFilter();
      const sort: LogSort = chance(0.5) ? 'TIMESTAMP_ASC' : 'TIMESTAMP_DESC';
      const page = { offset: chance(0.5) ? 0 : int(stored.length + 5), limit: 1 + int(chance(0.3) ? 1000 : 30) };
      const expected = stored.filter(compileLogFilter(filter)).sort(order(sort)).slice(page.offset, page.offset + page.limit);
      const answer = await store.logs.find(filter, sort, page);
      if (answer.length > 0) nonEmpty++;
      expect({ filter, sort, page, ids: answer.map((l) => l.id) }).toEqual({ filter, sort, page, ids: expected.map((l) => l.id) });
      expect(answer).toEqual(expected);
    }
    expect(nonEmpty).toBeGreaterThan(100); // the filters are not all trivially empty
  });

  test('a page past every row, and an offset past bigint, are empty', async () => {
    expect(await store.logs.find(null, 'TIMESTAMP_DESC', { offset: stored.length, limit: 10 })).toEqual([]);
    expect(await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 1e21, limit: 10 })).toEqual([]);
  });

  test('counts() and check() agree with the table', async () => {
    expect((await store.counts()).logs).toBe(stored.length);
    expect(await store.check()).toEqual([]);
  });

  test('deleteBefore removes the oldest lines first, in batches, until none is older', async () => {
    const cutoff = TIMES[20];
    const older = [...stored].filter((l) => l.timestamp < cutoff).sort(order('TIMESTAMP_ASC'));
    expect(older.length).toBeGreaterThan(20);
    expect(await store.logs.deleteBefore(cutoff, 0)).toBe(0);
    expect(await store.logs.deleteBefore(cutoff, 7)).toBe(7);
    const left = await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 0, limit: 100_000 });
    expect(left.map((l) => l.id)).toEqual(stored.filter((l) => !older.slice(0, 7).includes(l)).map((l) => l.id));
    let gone = 7;
    for (let n; (n = await store.logs.deleteBefore(cutoff, 10)) > 0; ) gone += n;
    expect(gone).toBe(older.length);
    const rest = await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 0, limit: 100_000 });
    expect(rest.map((l) => l.id)).toEqual(stored.filter((l) => l.timestamp >= cutoff).map((l) => l.id));
    expect((await store.counts()).logs).toBe(rest.length);
    expect(await store.check()).toEqual([]);
  });
});

describe.skipIf(url === null)('log appends from two instances', () => {
  test('concurrent appends all land, counted exactly; two retention runs delete each line once', async () => {
    const fresh = await freshDatabase('logs_two');
    const [a, b] = [await PostgresStore.open(fresh.url, { max: 4 }), await PostgresStore.open(fresh.url, { max: 4 })];
    try {
      const batches = Array.from({ length: 40 }, () => Array.from({ length: 100 }, randomLog));
      const written = await Promise.all(batches.map((batch, i) => (i % 2 === 0 ? a : b).logs.append(batch)));
      expect(written.reduce((x, y) => x + y, 0)).toBe(4000);
      expect((await a.counts()).logs).toBe(4000);
      expect((await b.counts()).logs).toBe(4000);
      const cutoff = TIMES[25];
      const due = (await a.logs.find({ timestamp: { before_: formatMicros(cutoff - 1) } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 100_000 })).length;
      const prune = async (s: PostgresStore) => {
        let n = 0;
        for (let k; (k = await s.logs.deleteBefore(cutoff, 50)) > 0; ) n += k;
        return n;
      };
      const [ga, gb] = await Promise.all([prune(a), prune(b)]);
      expect(ga + gb).toBe(due);
      expect(await a.logs.deleteBefore(cutoff, 50)).toBe(0);
      expect((await a.counts()).logs).toBe(4000 - due);
      expect(await a.check()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await fresh.drop();
    }
  });
});
