/**
 * The log-read scenarios: a store of N log lines (logs-data.ts's LogSeedPlan: one hot flow run
 * with 20% of the lines, ~400 lines per other run, ten runs logging at once, 10 ms apart) seeded
 * through the store's own `logs.append` — as bench/seed.ts seeds artifacts through `Store` — and
 * (on PostgreSQL then `VACUUM ANALYZE`, as bench/pg-seed.ts does) — and
 * the `POST /api/logs/filter` bodies measured on it: the flow run's last 200 (the target), and
 * every other filter field and sort, so slow paths show.
 */
import { SQL } from 'bun';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/contract.ts';
import { formatMicros } from '../../src/time.ts';
import type { Req } from '../wrk.ts';
import { LogSeedPlan, PER_RUN, SPACING_US, type LogLayout } from './logs-data.ts';

export interface LogSeeded extends LogLayout {
  seconds: number;
  rate: number;
}

/**
 * Seeds `n` lines into the store at `dataDir` (LMDB) or `databaseUrl` (PostgreSQL), in appends of
 * `batch` lines (each one durable transaction, as `POST /api/logs/` makes one per request),
 * `inFlight` at a time. The same `n` and `endMicros` give the same lines on both backends.
 */
export async function seedLogs(
  target: { dataDir: string; databaseUrl: string | null },
  n: number,
  endMicros: number,
  { batch = 10_000, inFlight = 2, log = console.log }: { batch?: number; inFlight?: number; log?: (line: string) => void } = {},
): Promise<LogSeeded> {
  const plan = new LogSeedPlan(n, endMicros);
  const started = performance.now();
  const store: Store = await openStore({ dataDir: target.dataDir, databaseUrl: target.databaseUrl, databasePoolSize: inFlight + 1 });
  try {
    const pending = new Set<Promise<unknown>>();
    let nextReport = 0.1;
    for (let from = 0; from < n; from += batch) {
      const lines = [];
      for (let i = from; i < Math.min(n, from + batch); i++) lines.push(plan.line(i));
      const p = store.logs.append(lines).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= inFlight) await Promise.race(pending);
      const done = Math.min(n, from + batch) / n;
      if (n >= 100_000 && done >= nextReport - 1e-9) {
        const s = (performance.now() - started) / 1000;
        log(`  logs: ${Math.round(done * 100)}% (${Math.round(done * n).toLocaleString('en-US')}) at ${Math.round((done * n) / s).toLocaleString('en-US')}/s`);
        while (done >= nextReport - 1e-9) nextReport += 0.1;
      }
    }
    await Promise.all(pending);
    const counts = await store.counts();
    if (counts.logs !== n) throw new Error(`seeded ${n} log lines but the store counts ${counts.logs}`);
  } finally {
    await store.close();
  }
  if (target.databaseUrl) {
    // As bench/pg-seed.ts does: statistics and the visibility map, as a database autovacuum has
    // seen would have them (without, the planner knows nothing of a table loaded a second ago),
    // then a checkpoint so the reads don't share the disk with it.
    const sql = new SQL({ url: target.databaseUrl, max: 1 });
    try {
      await sql.unsafe('VACUUM ANALYZE');
      await sql.unsafe('CHECKPOINT');
    } finally {
      await sql.close({ timeout: 5 });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { ...plan.layout(), seconds, rate: n / seconds };
}

export interface LogReadScenario {
  id: string;
  title: string;
  /** the target: p50 at the largest size within 1.5× of the smallest's */
  target?: boolean;
  requests(s: LogLayout): Req[];
}

const post = (body: unknown): Req => ({ method: 'POST', path: '/api/logs/filter', body: JSON.stringify(body) });
const sample = <T>(items: T[], count: number): T[] => (items.length <= count ? items : Array.from({ length: count }, (_, k) => items[Math.floor((k * items.length) / count)]));
const run = (id: string) => ({ flow_run_id: { any_: [id] } });
/** A 20 s window in the middle of the seeded span: ~2,000 lines, ~400 of the hot run's, at any N. */
const window = (s: LogLayout) => {
  const mid = s.start + (s.n * SPACING_US) / 2;
  return { after_: formatMicros(mid - 10_000_000), before_: formatMicros(mid + 10_000_000) };
};

export const LOG_READS: LogReadScenario[] = [
  {
    id: 'run-last-200',
    title: 'hot flow run, last 200 (`TIMESTAMP_DESC`)',
    target: true,
    requests: (s) => [post({ logs: run(s.hotRun), sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'runs-last-200',
    title: `a typical flow run (~${PER_RUN} lines; 1,000 sampled), last 200`,
    requests: (s) => sample(s.runs, 1000).map((id) => post({ logs: run(id), sort: 'TIMESTAMP_DESC', limit: 200 })),
  },
  {
    id: 'run-first-200',
    title: 'hot flow run, first 200 (`TIMESTAMP_ASC`, the UI’s order)',
    requests: (s) => [post({ logs: run(s.hotRun), sort: 'TIMESTAMP_ASC', limit: 200 })],
  },
  {
    id: 'run-offset-1000',
    title: 'hot flow run, `TIMESTAMP_ASC` offset 1,000 limit 200 (page 6)',
    requests: (s) => [post({ logs: run(s.hotRun), sort: 'TIMESTAMP_ASC', offset: 1000, limit: 200 })],
  },
  {
    id: 'run-level-30',
    title: 'hot flow run, `level ge_ 30` (warnings and up, 17%), last 200',
    requests: (s) => [post({ logs: { ...run(s.hotRun), level: { ge_: 30 } }, sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'run-window',
    title: 'hot flow run, a 20 s `timestamp` window (~400 lines), first 200',
    requests: (s) => [post({ logs: { ...run(s.hotRun), timestamp: window(s) }, sort: 'TIMESTAMP_ASC', limit: 200 })],
  },
  {
    id: 'run-flow-level',
    title: 'hot flow run, `task_run_id is_null_` (flow-level lines, 30%), last 200',
    requests: (s) => [post({ logs: { ...run(s.hotRun), task_run_id: { is_null_: true } }, sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'task-run',
    title: 'a task run (~28 lines; 1,000 sampled), `task_run_id any_` alone, first 200',
    requests: (s) => sample(s.taskRunSample, 1000).map((id) => post({ logs: { task_run_id: { any_: [id] } }, sort: 'TIMESTAMP_ASC', limit: 200 })),
  },
  {
    id: 'runs-10',
    title: '10 flow runs’ lines (`flow_run_id any_` of 10), last 200',
    requests: (s) => Array.from({ length: 100 }, (_, k) => post({ logs: { flow_run_id: { any_: sample(s.runs.slice(k % Math.max(1, s.runs.length - 10)), 10) } }, sort: 'TIMESTAMP_DESC', limit: 200 })),
  },
  {
    id: 'all-last-200',
    title: 'no filter, last 200',
    requests: () => [post({ sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'all-level-40',
    title: 'no run, `level ge_ 40` (errors, 7%), last 200',
    requests: () => [post({ logs: { level: { ge_: 40 } }, sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'all-level-50',
    title: 'no run, `level ge_ 50` (critical, 1%), last 200',
    requests: () => [post({ logs: { level: { ge_: 50 } }, sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
  {
    id: 'all-window',
    title: 'no run, a 20 s `timestamp` window (~2,000 lines), first 200',
    requests: (s) => [post({ logs: { timestamp: window(s) }, sort: 'TIMESTAMP_ASC', limit: 200 })],
  },
  {
    id: 'or-errors-or-run',
    title: '`or_`: `level ge_ 40` or the hot run, last 200',
    requests: (s) => [post({ logs: { operator: 'or_', level: { ge_: 40 }, ...run(s.hotRun) }, sort: 'TIMESTAMP_DESC', limit: 200 })],
  },
];
