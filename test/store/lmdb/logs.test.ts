/**
 * The LMDB log store: every page of `find` equals the brute-force answer (compileLogFilter over
 * every stored line, sorted by timestamp then id) on random lines and random filters — `and_`
 * and `or_`, bounds, several flow runs, offsets — whichever index the plan walks; a flow run's
 * last lines cost the same however many other lines the store holds; a long scan stops at its
 * deadline; deleteBefore goes oldest first; counters and check stay right throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { compileLogFilter } from '../../../src/filters/logs.ts';
import type { LogFilter, LogSort } from '../../../src/schemas/logs.ts';
import { QueryDeadlineError } from '../../../src/store/errors.ts';
import type { LogRecord, NewLog } from '../../../src/store/log-records.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { planLogs } from '../../../src/store/lmdb/query/logs.ts';
import { formatMicros } from '../../../src/time.ts';
import { tempDir } from '../../helpers.ts';
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

const BASE = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const RUNS = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000010${i}`);
const TASKS = Array.from({ length: 4 }, (_, i) => `00000000-0000-4000-8000-00000000020${i}`);
const UNKNOWN = '00000000-0000-4000-8000-000000000999';

function allLogs(store: LmdbStore): LogRecord[] {
  return [...store.dbs.logs.getRange({})].map(({ value }) => value);
}

function bruteForce(store: LmdbStore, filter: LogFilter | null, sort: LogSort, offset: number, limit: number): string[] {
  const matches = compileLogFilter(filter);
  const sorted = allLogs(store)
    .filter(matches)
    .sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : 1));
  if (sort === 'TIMESTAMP_DESC') sorted.reverse();
  return sorted.slice(offset, offset + limit).map((r) => r.id);
}

describe('find against brute force', () => {
  const seed = testSeed();
  const r = seededRandom(seed);
  let store: LmdbStore;
  beforeAll(async () => {
    store = fresh();
    // Timestamps on a coarse grid: many lines share one, so ties are decided by id.
    const line = (): NewLog => ({
      name: r.pick(['prefect.flow_runs', 'prefect.task_runs']),
      level: r.pick([10, 20, 30, 40, 50]),
      message: `m${r.int(1000)}`,
      timestamp: BASE + r.int(200) * 1_000_000,
      flow_run_id: r.chance(0.15) ? null : r.pick(RUNS),
      task_run_id: r.chance(0.4) ? null : r.pick(TASKS),
    });
    for (let batch = 0; batch < 8; batch++) await store.logs.append(Array.from({ length: 100 }, line));
  });

  const time = () => formatMicros(BASE + (r.int(220) - 10) * 1_000_000 + (r.chance(0.3) ? 1 : 0));
  function randomFilter(): LogFilter | null {
    if (r.chance(0.05)) return null;
    const f: Record<string, unknown> = {};
    if (r.chance(0.5)) f.operator = r.pick(['and_', 'or_']);
    if (r.chance(0.3)) f.level = { ...(r.chance(0.6) ? { ge_: r.pick([10, 20, 30, 40, 50, 60]) } : {}), ...(r.chance(0.6) ? { le_: r.pick([0, 10, 20, 30, 40, 50]) } : {}) };
    if (r.chance(0.4)) f.timestamp = { ...(r.chance(0.7) ? { after_: time() } : {}), ...(r.chance(0.7) ? { before_: time() } : {}) };
    if (r.chance(0.6)) f.flow_run_id = r.chance(0.1) ? {} : { any_: r.some([...RUNS, UNKNOWN], 4) };
    if (r.chance(0.3)) {
      f.task_run_id = { ...(r.chance(0.6) ? { any_: r.some([...TASKS, UNKNOWN], 3) } : {}), ...(r.chance(0.4) ? { is_null_: r.chance(0.5) } : {}) };
    }
    return f as LogFilter;
  }

  test(`random filters, sorts and pages (seed ${seed})`, async () => {
    const plans = { runs: 0, time: 0, bounded: 0 };
    for (let i = 0; i < 400; i++) {
      const filter = randomFilter();
      const sort: LogSort = r.pick(['TIMESTAMP_ASC', 'TIMESTAMP_DESC']);
      const offset = r.chance(0.5) ? 0 : r.int(120);
      const limit = r.pick([1, 5, 50, 200, 1000]);
      const plan = planLogs(filter);
      if (plan.runIds) plans.runs++;
      else plans.time++;
      if (plan.after !== null || plan.before !== null) plans.bounded++;
      const found = (await store.logs.find(filter, sort, { offset, limit })).map((l) => l.id);
      const wanted = bruteForce(store, filter, sort, offset, limit);
      if (JSON.stringify(found) !== JSON.stringify(wanted)) {
        throw new Error(`seed ${seed}, query ${i}: ${JSON.stringify({ filter, sort, offset, limit })}\nfound ${found.length}, wanted ${wanted.length}`);
      }
    }
    // Each access path was exercised.
    expect(plans.runs).toBeGreaterThan(50);
    expect(plans.time).toBeGreaterThan(50);
    expect(plans.bounded).toBeGreaterThan(20);
  });

  test('every page of a flow run, in both orders, concatenates to the whole run', async () => {
    for (const sort of ['TIMESTAMP_ASC', 'TIMESTAMP_DESC'] as const) {
      const filter = { flow_run_id: { any_: RUNS.slice(0, 3) } } as LogFilter;
      const pages: string[] = [];
      for (let offset = 0; ; offset += 7) {
        const page = await store.logs.find(filter, sort, { offset, limit: 7 });
        pages.push(...page.map((l) => l.id));
        if (page.length < 7) break;
      }
      expect(pages).toEqual(bruteForce(store, filter, sort, 0, 10_000));
    }
  });

  test('a filter that matches nothing by construction reads nothing', async () => {
    expect(await store.logs.find({ flow_run_id: { any_: [] } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 10 })).toEqual([]);
    expect(await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 0, limit: 0 })).toEqual([]);
  });

  test('the plan narrows only when the narrowing part must hold', () => {
    const run = RUNS[0];
    expect(planLogs({ flow_run_id: { any_: [run, run] } } as LogFilter).runIds).toEqual([run]);
    expect(planLogs({ operator: 'or_', flow_run_id: { any_: [run] } } as LogFilter).runIds).toEqual([run]);
    expect(planLogs({ operator: 'or_', flow_run_id: { any_: [run] }, level: { ge_: 30 } } as LogFilter).runIds).toBeNull();
    expect(planLogs({ operator: 'or_', flow_run_id: { any_: [run] }, task_run_id: {} } as LogFilter).runIds).toBeNull();
    const after = formatMicros(BASE);
    expect(planLogs({ operator: 'or_', timestamp: { after_: after }, flow_run_id: {} } as LogFilter).after).toBe(BASE);
    expect(planLogs({ operator: 'or_', timestamp: { after_: after }, flow_run_id: { any_: [run] } } as LogFilter).after).toBeNull();
    expect(planLogs({ timestamp: { after_: after }, flow_run_id: { any_: [run] } } as LogFilter)).toEqual({ runIds: [run], taskRunIds: null, after: BASE, before: null });
    const task = TASKS[0];
    expect(planLogs({ flow_run_id: { any_: [run] }, task_run_id: { any_: [task, task], is_null_: false } } as LogFilter)).toMatchObject({ runIds: [run], taskRunIds: [task] });
    expect(planLogs({ operator: 'or_', task_run_id: { any_: [task] } } as LogFilter).taskRunIds).toEqual([task]);
    expect(planLogs({ operator: 'or_', task_run_id: { any_: [task] }, flow_run_id: {} } as LogFilter).taskRunIds).toBeNull();
    expect(planLogs({ task_run_id: { is_null_: false } } as LogFilter).taskRunIds).toBeNull();
  });

  test('counts and check agree with the lines', () => {
    expect(store.counts().logs).toBe(800);
    expect(store.check()).toEqual([]);
  });
});

test("a flow run's last 200 lines read 200 lines, however many the store holds", async () => {
  const store = fresh();
  const mine = RUNS[0];
  const line = (flowRunId: string | null, i: number): NewLog => ({ name: 'n', level: 20, message: `${i}`, timestamp: BASE + i, flow_run_id: flowRunId, task_run_id: null });
  const filter = { flow_run_id: { any_: [mine] } } as LogFilter;
  let reads = 0;
  const get = store.dbs.logs.get.bind(store.dbs.logs);
  store.dbs.logs.get = ((...args: Parameters<typeof get>) => {
    reads++;
    return get(...args);
  }) as typeof get;
  await store.logs.append(Array.from({ length: 500 }, (_, i) => line(mine, i * 50)));
  const measure = async () => {
    reads = 0;
    const page = await store.logs.find(filter, 'TIMESTAMP_DESC', { offset: 0, limit: 200 });
    expect(page.map((l) => l.message)).toEqual(Array.from({ length: 200 }, (_, i) => `${(499 - i) * 50}`));
    return reads;
  };
  expect(await measure()).toBe(200);
  // 20,000 other lines, interleaved in time with the run's and around it.
  for (let batch = 0; batch < 20; batch++) {
    await store.logs.append(Array.from({ length: 1000 }, (_, i) => line(i % 7 === 0 ? null : RUNS[1 + (i % 4)], batch * 1000 + i + 1)));
  }
  expect(await measure()).toBe(200);
  expect(store.counts().logs).toBe(20_500);
});

test("a task run's lines read only its lines, however many the store holds", async () => {
  const store = fresh();
  const [mine, other] = TASKS;
  const line = (taskRunId: string | null, i: number): NewLog => ({ name: 'n', level: 20, message: `${i}`, timestamp: BASE + i, flow_run_id: RUNS[0], task_run_id: taskRunId });
  let reads = 0;
  const get = store.dbs.logs.get.bind(store.dbs.logs);
  store.dbs.logs.get = ((...args: Parameters<typeof get>) => {
    reads++;
    return get(...args);
  }) as typeof get;
  await store.logs.append(Array.from({ length: 30 }, (_, i) => line(mine, i * 100)));
  await store.logs.append(Array.from({ length: 5000 }, (_, i) => line(i % 2 ? other : null, i)));
  reads = 0;
  const page = await store.logs.find({ task_run_id: { any_: [mine] } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 200 });
  expect(page.map((l) => l.message)).toEqual(Array.from({ length: 30 }, (_, i) => `${i * 100}`));
  expect(reads).toBe(30);
  expect(store.check()).toEqual([]);
});

test('a scan past its deadline stops with QueryDeadlineError', async () => {
  const store = fresh({ queryTimeoutMs: 0 });
  await store.logs.append(Array.from({ length: 5000 }, (_, i) => ({ name: 'n', level: 20, message: '', timestamp: BASE + i, flow_run_id: null, task_run_id: null })));
  // Nothing matches, so the walk reads every line.
  await expect(store.logs.find({ level: { ge_: 100 } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 10 })).rejects.toBeInstanceOf(QueryDeadlineError);
  // A short page ends inside its first slice, before any deadline is looked at.
  expect(await store.logs.find(null, 'TIMESTAMP_ASC', { offset: 0, limit: 3 })).toHaveLength(3);
});

test('deleteBefore deletes the oldest lines first, a batch at a time, keeping counters and indexes', async () => {
  const store = fresh();
  const lines = Array.from({ length: 300 }, (_, i) => ({ name: 'n', level: 20, message: `${i}`, timestamp: BASE + ((i * 37) % 300), flow_run_id: i % 3 ? RUNS[i % 2] : null, task_run_id: null }));
  await store.logs.append(lines);
  expect(await store.logs.deleteBefore(BASE + 100, 60)).toBe(60);
  let left = allLogs(store).map((l) => l.timestamp - BASE);
  expect(Math.min(...left)).toBe(60);
  expect(await store.logs.deleteBefore(BASE + 100, 60)).toBe(40);
  expect(await store.logs.deleteBefore(BASE + 100, 60)).toBe(0);
  left = allLogs(store).map((l) => l.timestamp - BASE);
  expect(left.length).toBe(200);
  // Strict: the line at the cutoff stays.
  expect(Math.min(...left)).toBe(100);
  expect(store.counts().logs).toBe(200);
  expect(store.check()).toEqual([]);
  const page = await store.logs.find({ flow_run_id: { any_: [RUNS[0], RUNS[1]] } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 1000 });
  expect(page.every((l) => l.timestamp >= BASE + 100)).toBe(true);
});

test('check reports a missing, a stale and a miscounted entry', async () => {
  const store = fresh();
  await store.logs.append([{ name: 'n', level: 20, message: '', timestamp: BASE, flow_run_id: RUNS[0], task_run_id: null }]);
  const [log] = allLogs(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.logsByFlowRun.remove([RUNS[0], BASE, log.id]);
    store.dbs.logsByTimestamp.put([BASE + 1, log.id], Buffer.alloc(0));
    store.dbs.counters.put('logs', 5);
  });
  expect(store.check()).toEqual([
    `logs.byFlowRun: record entry ${JSON.stringify([RUNS[0], BASE, log.id])} is missing`,
    `logs.byTimestamp: entry ${JSON.stringify([BASE + 1, log.id])} has no matching record`,
    'counters: logs is 5, real count 1',
  ]);
});

test('appending nothing writes nothing', async () => {
  const store = fresh();
  expect(await store.logs.append([])).toBe(0);
  expect(store.counts().logs).toBe(0);
});
