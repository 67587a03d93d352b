/**
 * Seeds a store straight through `Store` (the same repositories the server writes through):
 * a few flows, one flow run per 10 artifacts in a mix of states, a task run for every other
 * flow run, and N artifacts over ~N/5 keys (several versions each, ~10% keyless), each pointing
 * at a flow run and some at a task run. Creates are issued concurrently in chunks so lmdb-js
 * folds them into shared transactions. Returns samples of ids, keys and run ids for the load.
 *
 * `related: true` (the query matrix, bench/queries/) also seeds what run-side filters need and
 * the main bench does not: flow tags, a deployment per flow (half the flow runs belong to it),
 * sub-flow runs (every 20th flow run is started from the task run of the run before it), task-run
 * tags and failed task runs. Off by default, so the main bench seeds exactly what it always did.
 */
import { LmdbStore as Store } from '../src/store/lmdb/store.ts';
import type { NewArtifact } from '../src/store/lmdb/artifacts.ts';
import type { NewFlowRun } from '../src/store/lmdb/flow-runs.ts';
import type { TaskRunCreate } from '../src/schemas/companions.ts';

export interface Seeded {
  n: number;
  flows: number;
  flowRuns: number;
  taskRuns: number;
  keys: number;
  /** artifacts per second while seeding artifacts */
  artifactRate: number;
  seconds: number;
  artifactIds: string[];
  keySample: string[];
  flowRunIds: string[];
}

/** A small deterministic PRNG, so two runs seed the same shapes. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['north', 'south', 'east', 'west', 'central', 'export', 'online', 'wholesale'];
const TOPICS = ['sales', 'inventory', 'churn', 'latency', 'signups', 'refunds', 'forecast', 'quality'];
const FLOWS = ['nightly-etl', 'sales-report', 'ml-train', 'ingest-events', 'data-quality'];

export function keyName(i: number): string {
  return `${TOPICS[i % TOPICS.length]}-report-${String(i).padStart(7, '0')}`;
}

/** A markdown report of roughly 200–500 bytes. */
export function markdown(rand: () => number, i: number): string {
  const topic = TOPICS[i % TOPICS.length];
  const rows = 2 + Math.floor(rand() * 7);
  let md = `# ${topic[0].toUpperCase()}${topic.slice(1)} report #${i}\n\n| region | count | change |\n|---|---:|---:|\n`;
  for (let r = 0; r < rows; r++) {
    md += `| ${REGIONS[(i + r) % REGIONS.length]} | ${Math.floor(rand() * 100000)} | ${(rand() * 20 - 10).toFixed(2)}% |\n`;
  }
  md += `\nGenerated in ${(rand() * 60).toFixed(1)} s; see the dashboard for details.`;
  return md;
}

/** A table artifact's data: Prefect stores the table as a JSON string. */
function table(rand: () => number, i: number): string {
  const rows = [];
  const n = 2 + Math.floor(rand() * 6);
  for (let r = 0; r < n; r++) rows.push({ region: REGIONS[(i + r) % REGIONS.length], total: Math.floor(rand() * 10000), ok: rand() > 0.1 });
  return JSON.stringify(rows);
}

function artifactInput(rand: () => number, i: number, keys: number, runIds: string[], taskOf: (string | null)[]): NewArtifact {
  const run = Math.floor(i / 10) % runIds.length;
  const keyless = rand() < 0.1;
  const kind = rand();
  let type: string;
  let data: string;
  if (kind < 0.6) {
    type = 'markdown';
    data = JSON.stringify(markdown(rand, i));
  } else if (kind < 0.85) {
    type = 'table';
    data = JSON.stringify(table(rand, i));
  } else if (kind < 0.95) {
    type = 'link';
    data = JSON.stringify(`https://dashboards.example.com/${TOPICS[i % TOPICS.length]}/${i}`);
  } else {
    type = 'progress';
    data = String(Math.round(rand() * 1000) / 10);
  }
  const task = taskOf[run] !== null && rand() < 0.5 ? taskOf[run] : null;
  return {
    key: keyless ? null : keyName(i % keys),
    type,
    description: rand() < 0.3 ? `${TOPICS[i % TOPICS.length]} summary for the ${REGIONS[i % REGIONS.length]} region` : null,
    data,
    metadata: rand() < 0.2 ? { owner: 'ops', source: FLOWS[run % FLOWS.length] } : null,
    flowRunId: runIds[run],
    taskRunId: task,
  };
}

/**
 * Runs `make(i)` for i in [0, total) in concurrent chunks; `progress` prints a line per 10%.
 * Returns the seconds it took.
 */
async function inChunks<T>(
  label: string,
  total: number,
  chunk: number,
  progress: boolean,
  make: (i: number) => Promise<T>,
  each: (i: number, value: T) => void,
): Promise<number> {
  const started = performance.now();
  const rate = (done: number) => Math.round(done / ((performance.now() - started) / 1000)).toLocaleString('en-US');
  let nextReport = 0.1;
  for (let from = 0; from < total; from += chunk) {
    const to = Math.min(total, from + chunk);
    const batch: Promise<T>[] = [];
    for (let i = from; i < to; i++) batch.push(make(i));
    const values = await Promise.all(batch);
    for (let i = from; i < to; i++) each(i, values[i - from]);
    if (progress && to / total >= nextReport - 1e-9) {
      console.log(`  ${label}: ${Math.round((to / total) * 100)}% (${to.toLocaleString('en-US')}) at ${rate(to)}/s`);
      while (to / total >= nextReport - 1e-9) nextReport += 0.1;
    }
  }
  if (!progress) console.log(`  ${label}: ${total.toLocaleString('en-US')} at ${rate(total)}/s`);
  return (performance.now() - started) / 1000;
}

function sampleEvenly<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items.slice();
  const out: T[] = [];
  for (let k = 0; k < count; k++) out.push(items[Math.floor((k * items.length) / count)]);
  return out;
}

const STATES = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'FAILED', 'RUNNING'] as const;

export interface SeedOptions {
  /** Also seed flow tags, deployments, sub-flow runs, task-run tags and states (see the top). */
  related?: boolean;
}

/** With `related`: flow run i is a sub-flow run of run i - 1's task run. */
const isSubflow = (i: number) => i % 20 === 19;

export async function seed(
  dir: string,
  n: number,
  chunk = Math.max(500, Math.min(5000, Math.ceil(n / 10))),
  { related = false }: SeedOptions = {},
): Promise<Seeded> {
  const rand = mulberry32(n);
  const started = performance.now();
  const store = Store.open(dir);
  try {
    const flowIds: string[] = [];
    for (const [k, name] of FLOWS.entries()) {
      flowIds.push((await store.flows.create({ name, tags: related ? [k % 2 === 0 ? 'prod' : 'dev'] : [] } as never)).record.id);
    }
    const deploymentIds: string[] = [];
    if (related) {
      for (const [k, name] of FLOWS.entries()) {
        const deployment = { name: `${name}-${k % 2 === 0 ? 'hourly' : 'daily'}`, flow_id: flowIds[k], tags: [] };
        deploymentIds.push((await store.deployments.create(deployment as never)).record.id);
      }
    }

    const runCount = Math.max(1, Math.floor(n / 10));
    const runIds: string[] = new Array(runCount);
    const runInput = (i: number, parentTaskRunId: string | null = null) =>
      ({
        flow_id: flowIds[i % flowIds.length],
        state: { type: STATES[i % STATES.length] },
        tags: i % 3 === 0 ? ['nightly'] : [],
        ...(related ? { deployment_id: i % 2 === 0 ? deploymentIds[i % deploymentIds.length] : null, parent_task_run_id: parentTaskRunId } : {}),
      }) as NewFlowRun;
    await inChunks(
      'flow runs',
      runCount,
      chunk,
      false,
      (i) => (related && isSubflow(i) ? Promise.resolve(null) : store.flowRuns.create(runInput(i))),
      (i, r) => {
        if (r) runIds[i] = r.record.id;
      },
    );

    // A task run for every other flow run.
    const taskOf: (string | null)[] = new Array(runCount).fill(null);
    const taskRunCount = Math.ceil(runCount / 2);
    await inChunks(
      'task runs',
      taskRunCount,
      chunk,
      false,
      (i) =>
        store.taskRuns.create({
          flow_run_id: runIds[i * 2],
          task_key: 'publish-report',
          dynamic_key: '0',
          state: { type: related && i % 5 === 4 ? 'FAILED' : 'COMPLETED' },
          ...(related ? { tags: i % 3 === 0 ? ['nightly'] : [] } : {}),
        } as TaskRunCreate),
      (i, r) => (taskOf[i * 2] = r.record.id),
    );
    if (related) {
      // Sub-flow runs need their parent task run, so they come after the task runs.
      const subflows = Array.from({ length: runCount }, (_, i) => i).filter(isSubflow);
      await inChunks(
        'sub-flow runs',
        subflows.length,
        chunk,
        false,
        (k) => store.flowRuns.create(runInput(subflows[k], taskOf[subflows[k] - 1])),
        (k, r) => (runIds[subflows[k]] = r.record.id),
      );
    }

    const keys = Math.max(1, Math.floor(n / 5));
    const used = new Uint8Array(keys); // a key whose every draw was keyless has no versions
    const ids: string[] = [];
    const idEvery = Math.max(1, Math.floor(n / 1000));
    const artifactSeconds = await inChunks(
      'artifacts',
      n,
      chunk,
      true,
      (i) => {
        const input = artifactInput(rand, i, keys, runIds, taskOf);
        if (input.key !== null) used[i % keys] = 1;
        return store.artifacts.create(input);
      },
      (i, r) => {
        if (i % idEvery === 0) ids.push(r.id);
      },
    );
    return {
      n,
      flows: flowIds.length,
      flowRuns: runCount,
      taskRuns: taskRunCount,
      keys,
      artifactRate: n / artifactSeconds,
      seconds: (performance.now() - started) / 1000,
      artifactIds: ids,
      keySample: sampleEvenly(
        Array.from({ length: keys }, (_, k) => k)
          .filter((k) => used[k])
          .map(keyName),
        1000,
      ),
      flowRunIds: sampleEvenly(runIds, 1000),
    };
  } finally {
    await store.close();
  }
}
