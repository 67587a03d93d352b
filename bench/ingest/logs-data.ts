/**
 * Log lines as Prefect clients send them, for the logs bench (bench/ingest/): the 100-record
 * bodies of `POST /api/logs/` and the stores seeded for the read scenarios. Deterministic (a PRNG
 * seeded per use), so two runs send and seed the same shapes.
 *
 * What a line looks like (bench/../spec recordings, `POST /api/logs/`): `name` `prefect.flow_runs`
 * or `prefect.task_runs`, numeric `level`, `message`, ISO-8601 UTC `timestamp` with µs, the flow
 * run's id and the task run's id (null for flow-level lines). Messages are the kinds a flow run
 * logs: engine lines ("Finished in state Completed()", "Created task run …"), `print` output,
 * `get_run_logger` lines, retry warnings, and now and then an error with a traceback (~1–2 KB).
 */
import { formatMicros } from '../../src/time.ts';
import type { NewLog } from '../../src/store/log-records.ts';

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (x: number, width: number) => (x >>> 0).toString(16).padStart(width, '0').slice(-width);

/** A UUIDv4-shaped id made from the PRNG (deterministic, valid for the API's `format: uuid`). */
export function uuidFrom(rand: () => number): string {
  const w = () => Math.floor(rand() * 0x100000000);
  const a = w();
  const b = w();
  const c = w();
  const d = w();
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${hex(0x8000 | (c >>> 18), 4)}-${hex(c, 4)}${hex(d, 8)}`;
}

/**
 * A stable id for a pair of integers (a run's i-th task run, …): `a` (< 2^27, may be -1) and `b`
 * (< 2^30) are written into the id, so distinct pairs never share one; the rest is hashed.
 */
export function uuidOf(a: number, b: number): string {
  const h = prng(Math.imul(a + 2, 0x9e3779b1) ^ Math.imul(b + 7, 0x85ebca77));
  const x = a + 1;
  return `${hex(Math.floor(h() * 0x100000000), 8)}-${hex(x >>> 12, 4)}-4${hex(x, 3)}-${hex(0x8000 | ((b >>> 16) & 0x3fff), 4)}-${hex(b & 0xffff, 4)}${hex(Math.floor(h() * 0x100000000), 8)}`;
}

const TASKS = ['extract', 'transform', 'load', 'validate', 'publish-report', 'fetch-page', 'train-step', 'score-batch'];
const TABLES = ['orders', 'customers', 'invoices', 'shipments', 'events', 'inventory'];
const HOSTS = ['api.partner.example.com', 'warehouse.internal', 's3.eu-west-1.amazonaws.com', 'pypi.org'];

/** A Python traceback of `frames` frames, as `logger.exception` writes it. */
function traceback(rand: () => number, frames: number): string {
  let s = 'Traceback (most recent call last):\n';
  for (let f = 0; f < frames; f++) {
    const mod = TASKS[Math.floor(rand() * TASKS.length)].replace('-', '_');
    s += `  File "/opt/prefect/flows/${mod}.py", line ${10 + Math.floor(rand() * 400)}, in ${mod}_step\n    result = client.request(batch, timeout=${(5 + rand() * 25).toFixed(0)})\n`;
  }
  return `${s}httpx.ReadTimeout: timed out while reading from ${HOSTS[Math.floor(rand() * HOSTS.length)]}`;
}

/** Python logging levels, weighted as a busy flow logs them. */
export function pickLevel(rand: () => number): number {
  const x = rand();
  return x < 0.1 ? 10 : x < 0.83 ? 20 : x < 0.93 ? 30 : x < 0.99 ? 40 : 50;
}

/** A message for a line at `level`, of a task run (`task` ≥ 0) or the flow run (-1). */
export function message(rand: () => number, level: number, task: number, i: number): string {
  const name = `${TASKS[Math.abs(task) % TASKS.length]}-${Math.abs(task) % 97}`;
  if (level >= 40) {
    return rand() < 0.5
      ? `Task run '${name}' - Encountered exception during execution:\n${traceback(rand, 2 + Math.floor(rand() * 6))}`
      : `Finished in state Failed('Task run encountered an exception ReadTimeout: timed out')`;
  }
  if (level === 30) {
    return `Retrying request to https://${HOSTS[i % HOSTS.length]}/v2/${TABLES[i % TABLES.length]} in ${(rand() * 8).toFixed(1)} s (attempt ${1 + (i % 4)} of 5)`;
  }
  if (level === 10) return `Fetched page ${i % 500} of ${TABLES[i % TABLES.length]}: cursor=${hex(Math.floor(rand() * 0xffffffff), 8)}, ${Math.floor(rand() * 5000)} rows buffered`;
  const x = rand();
  if (task < 0) {
    if (x < 0.3) return `Created task run '${name}' for task '${TASKS[Math.abs(task) % TASKS.length]}'`;
    if (x < 0.5) return `Executing '${name}' immediately...`;
    if (x < 0.6) return `Finished in state Completed()`;
  }
  if (x < 0.75) return `Processed batch ${i % 1000} of ${TABLES[i % TABLES.length]}: ${Math.floor(rand() * 100000).toLocaleString('en-US')} rows in ${(rand() * 3).toFixed(2)} s`;
  if (x < 0.9) return `Wrote ${Math.floor(rand() * 50000)} rows to warehouse.${TABLES[(i + 1) % TABLES.length]} (partition dt=2026-12-${String(1 + (i % 28)).padStart(2, '0')})`;
  return `Finished in state Completed()`;
}

// ── ingest bodies ───────────────────────────────────────────────────────────────────────────

/**
 * `count` distinct bodies of `batch` records each for `POST /api/logs/`, as a client's log
 * handler sends them: each body is one flow run's lines (a third flow-level, the rest spread
 * over a few task runs), timestamps a few ms apart ending at `endMicros`.
 */
export function ingestBodies(count: number, batch: number, flowRunIds: string[], endMicros: number): string[] {
  const rand = prng(0x10c5 + batch);
  const bodies: string[] = [];
  for (let b = 0; b < count; b++) {
    const run = flowRunIds[b % flowRunIds.length];
    const tasks = Array.from({ length: 4 }, (_, t) => uuidOf(b, t));
    let ts = endMicros - (count - b) * batch * 5000;
    const records = [];
    for (let r = 0; r < batch; r++) {
      ts += 1000 + Math.floor(rand() * 8000);
      const task = rand() < 0.33 ? -1 : Math.floor(rand() * tasks.length);
      const level = pickLevel(rand);
      records.push({
        name: task < 0 ? 'prefect.flow_runs' : 'prefect.task_runs',
        level,
        message: message(rand, level, task < 0 ? -1 : task, b * batch + r),
        timestamp: formatMicros(ts),
        flow_run_id: run,
        task_run_id: task < 0 ? null : tasks[task],
      });
    }
    bodies.push(JSON.stringify(records));
  }
  return bodies;
}

// ── the stores the reads are measured on ────────────────────────────────────────────────────

/** One line in eight hundred has no flow run (a worker's own lines). */
const NO_RUN_EVERY = 800;
/** Lines per task run, and the share of lines that are the hot run's. */
const PER_TASK = 40;
export const HOT_SHARE = 0.2;
/** Lines a typical (not hot) run gets, on average. */
export const PER_RUN = 400;
/** Runs logging at the same time. */
const LANES = 10;
/** The seeded lines are 10 ms apart: N lines span N/100 s (10k: 100 s; 1M: 2.8 h). */
export const SPACING_US = 10_000;

export interface LogLayout {
  n: number;
  /** µs of the first line */
  start: number;
  hotRun: string;
  /** every other run, in creation order */
  runs: string[];
  /** task runs, sampled (1,000 at most) */
  taskRunSample: string[];
  /** How many lines the hot run has (and of them, without a task run). */
  hotLines: number;
}

/**
 * Where line `i` of a store of `n` goes: every fifth line is the hot run's (a long flow run that
 * logs the whole time: 20% of the store), the rest go to `runs` runs of ~400 lines each, ten of
 * them logging at once (runs start one after another, overlapping); ~70% of a run's lines belong
 * to one of its task runs (40 lines each), the rest are flow-level. Timestamps: 10 ms apart with
 * jitter, ending now, so `POST /logs/filter`'s windows are recent ones.
 */
export class LogSeedPlan {
  readonly runCount: number;
  readonly runs: string[];
  readonly hotRun: string;
  readonly start: number;
  private readonly rand: () => number;
  private hotLines = 0;
  private readonly taskSample = new Set<string>();

  constructor(
    readonly n: number,
    endMicros: number,
  ) {
    this.rand = prng(n ^ 0x5eed);
    this.runCount = Math.max(LANES, Math.round((n * (1 - HOT_SHARE)) / PER_RUN));
    this.runs = Array.from({ length: this.runCount }, (_, r) => uuidOf(0x7a11, r));
    this.hotRun = uuidOf(0x407, n);
    this.start = endMicros - n * SPACING_US;
  }

  /** Line `i` (0 ≤ i < n, in time order). */
  line(i: number): NewLog {
    const rand = this.rand;
    const timestamp = this.start + i * SPACING_US + Math.floor(rand() * SPACING_US);
    const level = pickLevel(rand);
    if (i % NO_RUN_EVERY === NO_RUN_EVERY - 1) {
      return { name: 'prefect.workers.process', level, message: message(rand, level, -1, i), timestamp, flow_run_id: null, task_run_id: null };
    }
    let run: string;
    let runIndex: number;
    let ordinal: number;
    if (i % 5 === 0) {
      run = this.hotRun;
      runIndex = -1;
      ordinal = this.hotLines++;
    } else {
      // Non-hot line k of n·0.8: its lane, and the run of that lane at this point in time.
      const k = i - Math.floor(i / 5) - 1;
      const total = this.n - Math.ceil(this.n / 5);
      const lane = k % LANES;
      const perLane = Math.ceil(this.runCount / LANES);
      const slot = Math.min(perLane - 1, Math.floor((k / Math.max(1, total)) * perLane));
      runIndex = Math.min(this.runCount - 1, lane + LANES * slot);
      run = this.runs[runIndex];
      ordinal = Math.floor(k / LANES);
    }
    const flowLevel = rand() < 0.3;
    const taskSlot = Math.floor(ordinal / PER_TASK);
    const task = flowLevel ? null : uuidOf(runIndex + 0x10000, taskSlot);
    if (task && this.taskSample.size < 1000 && ordinal % PER_TASK === 0 && (runIndex < 0 || rand() < 0.5)) this.taskSample.add(task);
    return {
      name: task ? 'prefect.task_runs' : 'prefect.flow_runs',
      level,
      message: message(rand, level, task ? taskSlot : -1, i),
      timestamp,
      flow_run_id: run,
      task_run_id: task,
    };
  }

  layout(): LogLayout {
    return { n: this.n, start: this.start, hotRun: this.hotRun, runs: this.runs, taskRunSample: [...this.taskSample], hotLines: this.hotLines };
  }
}
