/**
 * Export/import round trip through the real `artifactd` process: seeds a store straight through
 * the store (flows, a deployment, flow runs in several states, task runs, sub-flow runs under
 * task runs, N artifacts over N/5 keys with several versions, some PATCHed, some latest versions
 * deleted so collections fell back, exact big integers in `data`), runs `artifactd export` and
 * `artifactd import` into a fresh directory, and proves the stores identical: `check` passes on
 * both, the counts are equal, every collection's stored JSON is equal, a sample of artifacts and
 * latest versions is byte-equal through the API, and exporting the imported store gives the same
 * file (header time aside).
 *
 *   bun scripts/transfer-roundtrip.ts [N]        (default 100000; ARTIFACTD_BIN to run the binary)
 *
 * `test/e2e/transfer.test.ts` runs it at a size the test suite can afford.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { DEFAULTS } from '../src/config.ts';
import { silentLogger } from '../src/observe/log.ts';
import type { FlowRecord } from '../src/store/companion-records.ts';
import type { NewFlowRun } from '../src/store/lmdb/flow-runs.ts';
import { LmdbStore as Store } from '../src/store/lmdb/store.ts';
import type { TaskRunCreate } from '../src/schemas/companions.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const COMMAND = process.env.ARTIFACTD_BIN ? [process.env.ARTIFACTD_BIN] : [process.execPath, MAIN];

export interface RoundTrip {
  n: number;
  records: number;
  /** Size of the export file. */
  bytes: number;
  seedSeconds: number;
  exportSeconds: number;
  importSeconds: number;
  /** Everything that differs; empty when the round trip is exact. */
  differences: string[];
}

const STATES = ['COMPLETED', 'COMPLETED', 'FAILED', 'RUNNING', 'SCHEDULED', 'CANCELLED'] as const;

/** Seeds `n` artifacts and their companions; returns a sample of artifact ids and keys. */
export async function seedVaried(dir: string, n: number): Promise<{ ids: string[]; keys: string[] }> {
  const store = Store.open(dir);
  try {
    const flows: FlowRecord[] = [];
    for (const name of ['nightly-etl', 'ml-train', 'reports']) flows.push((await store.flows.create({ name, tags: ['team-a'], labels: { env: 'prod' } } as never)).record);
    const deployment = (await store.deployments.create({ name: 'nightly', flow_id: flows[0].id, parameters: { day: 1 }, tags: ['x'] } as never)).record;

    const runCount = Math.max(10, Math.floor(n / 10));
    const runs: string[] = [];
    for (let from = 0; from < runCount; from += 1000) {
      const made = await Promise.all(
        Array.from({ length: Math.min(1000, runCount - from) }, (_, j) => {
          const i = from + j;
          return store.flowRuns.create({
            flow_id: flows[i % flows.length].id,
            deployment_id: i % 7 === 0 ? deployment.id : null,
            state: { type: STATES[i % STATES.length] },
            tags: i % 3 === 0 ? ['nightly'] : [],
            parameters: { i, big: 1 },
            idempotency_key: i % 5 === 0 ? `run-${i}` : null,
          } as NewFlowRun);
        }),
      );
      runs.push(...made.map((m) => m.record.id));
    }
    const tasks: (string | null)[] = [];
    for (let from = 0; from < runCount; from += 2000) {
      const made = await Promise.all(
        Array.from({ length: Math.ceil(Math.min(2000, runCount - from) / 2) }, (_, j) =>
          store.taskRuns.create({ flow_run_id: runs[from + j * 2], task_key: 'publish', dynamic_key: String(j), state: { type: 'COMPLETED' } } as TaskRunCreate),
        ),
      );
      tasks.push(...made.map((m) => m.record.id));
    }
    // Sub-flow runs: their parent task run is exported after them.
    for (let i = 0; i < 5 && i < tasks.length; i++) {
      await store.flowRuns.create({ flow_id: flows[1].id, parent_task_run_id: tasks[i], state: { type: 'RUNNING' } } as NewFlowRun);
    }

    const keys = Math.max(1, Math.floor(n / 5));
    const ids: string[] = [];
    for (let from = 0; from < n; from += 2000) {
      const made = await Promise.all(
        Array.from({ length: Math.min(2000, n - from) }, (_, j) => {
          const i = from + j;
          const run = Math.floor(i / 10) % runs.length;
          return store.artifacts.create({
            key: i % 10 === 9 ? null : `report-${i % keys}`,
            type: ['markdown', 'table', 'progress', 'link'][i % 4],
            description: i % 3 === 0 ? `report ${i} — ünïcode ✓` : null,
            data: i % 4 === 2 ? `${i / 10}` : i % 11 === 0 ? `{"exact": 9007199254740993${i}, "list": [1, 2.50, "x"]}` : JSON.stringify(`# Report ${i}\n| a | b |`),
            metadata: i % 5 === 0 ? { owner: 'ops', run: String(run) } : null,
            flowRunId: runs[run],
            taskRunId: i % 20 === 0 ? (tasks[Math.floor(run / 2)] ?? null) : null,
          });
        }),
      );
      ids.push(...made.map((r) => r.id));
    }
    // PATCHes (latest versions and older ones) and deletes of latest versions (collections fall back).
    // Issued together, so that lmdb-js folds them into a few durable transactions (one at a time
    // would wait for a sync each); every one touches a different artifact or key.
    const patches: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 97) patches.push(store.artifacts.update(ids[i], { description: `patched ${i}`, data: '[1, 2, 3]' }));
    await Promise.all(patches);
    const deletes: Promise<unknown>[] = [];
    for (let k = 0; k < keys; k += 53) {
      const latest = store.artifacts.latestByKey(`report-${k}`);
      if (latest) deletes.push(store.artifacts.delete(latest.latestId));
    }
    await Promise.all(deletes);
    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(n / 500)) === 0);
    return { ids: sample, keys: Array.from({ length: Math.min(keys, 300) }, (_, k) => `report-${Math.floor((k * keys) / Math.min(keys, 300))}`) };
  } finally {
    await store.close();
  }
}

async function artifactd(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([...COMMAND, ...args], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

async function expectOk(args: string[], differences: string[]): Promise<void> {
  const result = await artifactd(args);
  if (result.status !== 0) differences.push(`artifactd ${args.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).slice(0, 500)}`);
}

/** Reads `path` on both stores through the API and returns a difference, if any. */
async function sameAnswer(a: ReturnType<typeof createApp>, b: ReturnType<typeof createApp>, method: string, path: string, body?: unknown) {
  const init = (): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const [ra, rb] = await Promise.all([a.handle(new Request(`http://127.0.0.1${path}`, init())), b.handle(new Request(`http://127.0.0.1${path}`, init()))]);
  const [ta, tb] = await Promise.all([ra.text(), rb.text()]);
  if (ra.status !== rb.status || ta !== tb) return `${method} ${path}: ${ra.status} ${ta.slice(0, 200)} ≠ ${rb.status} ${tb.slice(0, 200)}`;
  return undefined;
}

export async function roundTrip(n: number, workDir = mkdtempSync(join(tmpdir(), 'artifactd-roundtrip-'))): Promise<RoundTrip> {
  const source = join(workDir, 'source');
  const target = join(workDir, 'target');
  const file = join(workDir, 'export.ndjson');
  const again = join(workDir, 'again.ndjson');
  const differences: string[] = [];
  try {
    let t = performance.now();
    const sample = await seedVaried(source, n);
    const seedSeconds = (performance.now() - t) / 1000;

    t = performance.now();
    await expectOk(['export', '--data-dir', source, file], differences);
    const exportSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await expectOk(['import', '--data-dir', target, file], differences);
    const importSeconds = (performance.now() - t) / 1000;
    await expectOk(['check', '--data-dir', target], differences);
    await expectOk(['export', '--data-dir', target, again], differences);

    const body = (path: string) => readFileSync(path, 'utf8').split('\n').slice(1).join('\n'); // header time differs
    const exported = body(file);
    if (exported !== body(again)) differences.push('exporting the imported store gives a different file');
    const records = exported.split('\n').filter((l) => l !== '').length;
    const bytes = statSync(file).size;

    const a = Store.open(source);
    const b = Store.open(target);
    try {
      if (JSON.stringify(a.counts()) !== JSON.stringify(b.counts())) differences.push(`counts ${JSON.stringify(a.counts())} ≠ ${JSON.stringify(b.counts())}`);
      for (const [name, store] of [['source', a], ['target', b]] as const) {
        const findings = store.check();
        if (findings.length > 0) differences.push(`check on ${name}: ${findings.slice(0, 5).join('; ')}`);
      }
      // Every collection, as `/latest/filter` serves it (its own id and created included).
      const collections = (s: Store) => [...s.dbs.collectionJson.getRange({})].map(({ key, value }) => `${key}\t${value}`);
      const ca = collections(a);
      const cb = collections(b);
      if (ca.length !== cb.length) differences.push(`collections: ${ca.length} ≠ ${cb.length}`);
      for (let i = 0; i < ca.length; i++) if (ca[i] !== cb[i]) differences.push(`collection ${ca[i].slice(0, 200)} ≠ ${cb[i]?.slice(0, 200)}`);

      const config = { ...DEFAULTS, dataDir: source };
      const appA = createApp(a, config, silentLogger);
      const appB = createApp(b, { ...config, dataDir: target }, silentLogger);
      const checks: (string | undefined)[] = [];
      for (const id of sample.ids) checks.push(await sameAnswer(appA, appB, 'GET', `/api/artifacts/${id}`));
      for (const key of sample.keys) checks.push(await sameAnswer(appA, appB, 'GET', `/api/artifacts/${key}/latest`));
      for (const sort of ['CREATED_DESC', 'UPDATED_DESC', 'KEY_ASC', 'ID_DESC']) {
        checks.push(await sameAnswer(appA, appB, 'POST', '/api/artifacts/filter', { sort, limit: 200 }));
        checks.push(await sameAnswer(appA, appB, 'POST', '/api/artifacts/latest/filter', { sort, limit: 200 }));
      }
      checks.push(await sameAnswer(appA, appB, 'POST', '/api/flow_runs/filter', { flow_runs: { state: { type: { any_: ['FAILED'] } } }, limit: 50 }));
      checks.push(await sameAnswer(appA, appB, 'POST', '/api/artifacts/count', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }));
      differences.push(...checks.filter((c): c is string => c !== undefined).slice(0, 20));
    } finally {
      await a.close();
      await b.close();
    }
    return { n, records, bytes, seedSeconds, exportSeconds, importSeconds, differences };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 100_000);
  const result = await roundTrip(n);
  const rate = (seconds: number) => Math.round(result.records / seconds).toLocaleString('en-US');
  console.log(`round trip of ${n.toLocaleString('en-US')} artifacts (${result.records.toLocaleString('en-US')} records, ${(result.bytes / 1e6).toFixed(0)} MB):`);
  console.log(`  seed ${result.seedSeconds.toFixed(1)} s; export ${result.exportSeconds.toFixed(1)} s (${rate(result.exportSeconds)} records/s); import ${result.importSeconds.toFixed(1)} s (${rate(result.importSeconds)} records/s)`);
  if (result.differences.length === 0) console.log('  identical: check passes, counts, every collection, sampled records and the re-export are equal');
  else for (const d of result.differences) console.log(`  DIFFERENT: ${d}`);
  process.exit(result.differences.length === 0 ? 0 : 1);
}
