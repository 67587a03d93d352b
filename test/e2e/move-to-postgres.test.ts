/**
 * Moving a store from LMDB to PostgreSQL as the README tells an operator to, at 100k artifacts:
 *
 *   artifactd export --data-dir d | artifactd import - --database-url URL
 *
 * through the real commands (the built executable when ARTIFACTD_BIN is set: then at 20k, since
 * the 100k run from the source has proven the volume and the executable's run is there to prove
 * its commands in a pipe; CI runs both). Then exporting
 * the PostgreSQL store gives the LMDB export byte for byte (apart from the header's time),
 * `artifactd check --database-url` passes, and the PostgreSQL export imported into a fresh
 * LMDB store exports the same again: LMDB → PostgreSQL → LMDB is exact.
 *
 * The LMDB store is seeded quickly: flows, a deployment, flow runs in several states (some
 * with idempotency keys), task runs and sub-flow runs through the store's API; 100k artifacts
 * (over 20k keys, versions' `created` out of id order, a third of the keys with a collection
 * identity of their own) through the store's importer in batches; then PATCHes and deletes of
 * latest versions through the API, so collections fell back and differ from their first version.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Numbered } from '../../src/store/contract.ts';
import { newId } from '../../src/store/ids.ts';
import { LmdbStore } from '../../src/store/lmdb/store.ts';
import type { ArtifactRecord } from '../../src/store/records.ts';
import { freshDatabase, testDatabaseUrl } from '../postgres/cluster.ts';
import { tempDir } from '../helpers.ts';
import { COMMAND } from './process.ts';

const url = await testDatabaseUrl();

const N = process.env.ARTIFACTD_BIN ? 20_000 : 100_000;
const KEYS = N / 5;
const RUNS = 2_000;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const CLI = COMMAND.map(shellQuote).join(' ');

/** Runs a shell command line; its exit code, output and seconds taken. */
async function sh(line: string): Promise<{ code: number; out: string; err: string; seconds: number }> {
  const started = performance.now();
  const proc = Bun.spawn(['sh', '-c', line], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, COLUMNS: '' } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err, seconds: (performance.now() - started) / 1000 };
}

const STATES = ['COMPLETED', 'COMPLETED', 'FAILED', 'RUNNING', 'SCHEDULED', 'CANCELLED'];

/** Seeds the store in `dir`; how many records it holds. */
async function seed(dir: string): Promise<number> {
  const store = LmdbStore.open(dir);
  try {
    const flows: { id: string }[] = [];
    for (const name of ['nightly-etl', 'ml-train', 'reports']) flows.push((await store.flows.create({ name, tags: ['team-a'], labels: { env: 'prod' } } as never)).record);
    const deployment = (await store.deployments.create({ name: 'nightly', flow_id: flows[0].id, parameters: { day: 1 }, tags: ['x'] } as never)).record;
    const runs = (
      await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          store.flowRuns.create({
            flow_id: flows[i % flows.length].id,
            deployment_id: i % 7 === 0 ? deployment.id : null,
            state: { type: STATES[i % STATES.length] },
            tags: i % 3 === 0 ? ['nightly'] : [],
            parameters: { i, ratio: 0.5 },
            idempotency_key: i % 5 === 0 ? `run-${i}` : null,
          } as never),
        ),
      )
    ).map((c) => c.record.id);
    const tasks = (
      await Promise.all(
        Array.from({ length: RUNS / 2 }, (_, j) =>
          store.taskRuns.create({ flow_run_id: runs[j * 2], task_key: 'publish', dynamic_key: String(j), state: { type: 'COMPLETED' }, tags: ['t'] } as never),
        ),
      )
    ).map((c) => c.record.id);
    // Sub-flow runs: exported before their parent task runs, linked at the end of the import.
    await Promise.all(tasks.slice(0, 20).map((task) => store.flowRuns.create({ flow_id: flows[1].id, parent_task_run_id: task, state: { type: 'RUNNING' } } as never)));

    // N artifacts through the store's importer, in batches of 2000.
    const base = Date.UTC(2026, 0, 1) * 1000;
    const importer = store.transfer.importer();
    let batch: Numbered[] = [];
    let line = 0;
    const flush = async () => {
      const outcomes = await importer.write(batch);
      if (outcomes.some((o) => o !== 'added')) throw new Error(`seed: ${JSON.stringify(outcomes.find((o) => o !== 'added'))}`);
      batch = [];
    };
    for (let k = 0; k < KEYS; k += 3) {
      batch.push({ line: ++line, item: { kind: 'collection', record: { key: `report-${k}`, id: newId(), created: base - 1_000_000 * (k + 1) } } });
      if (batch.length === 2000) await flush();
    }
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const created = base + ((i * 7919) % N) * 1000 + (i % 7); // versions' times out of id order
      const record: ArtifactRecord = {
        id: newId(),
        created,
        updated: created + (i % 3) * 500,
        key: i % 10 === 9 ? null : `report-${i % KEYS}`,
        type: ['markdown', 'table', 'progress', 'link'][i % 4],
        description: i % 3 === 0 ? `report ${i} — ünïcode ✓ "quoted" \\ back` : null,
        data: i % 4 === 2 ? `${i / 10}` : i % 11 === 0 ? `{"exact": 9007199254740993${i}, "list": [1, 2.50, "x"]}` : JSON.stringify(`# Report ${i}\n| a | b |`),
        metadata: i % 5 === 0 ? { owner: 'ops', run: String(i % RUNS) } : null,
        flowRunId: runs[Math.floor(i / 10) % RUNS],
        taskRunId: i % 20 === 0 ? tasks[Math.floor(i / 20) % tasks.length] : null,
      };
      ids.push(record.id);
      batch.push({ line: ++line, item: { kind: 'artifact', record } });
      if (batch.length === 2000) await flush();
    }
    if (batch.length > 0) await flush();
    await importer.finish();

    // PATCHes (latest versions and older ones) and deletes of latest versions (collections fall back).
    const patches: Promise<unknown>[] = [];
    for (let i = 0; i < N; i += 197) patches.push(store.artifacts.update(ids[i], { description: `patched ${i}`, data: '[1, 2, 3]' }));
    await Promise.all(patches);
    const deletes: Promise<unknown>[] = [];
    for (let k = 0; k < KEYS; k += 101) {
      const latest = store.artifacts.latestByKey(`report-${k}`); // keys ending in 9 have no versions
      if (latest) deletes.push(store.artifacts.delete(latest.latestId));
    }
    await Promise.all(deletes);
    expect(store.check()).toEqual([]);
    const c = store.counts();
    return c.flows + c.deployments + c.flowRuns + c.taskRuns + c.collections + c.artifacts;
  } finally {
    await store.close();
  }
}

/** An export file without its header line (whose time differs), and the header's counts. */
function body(file: string): { counts: unknown; rest: string } {
  const text = readFileSync(file, 'utf8');
  const newline = text.indexOf('\n');
  return { counts: JSON.parse(text.slice(0, newline)).counts, rest: text.slice(newline + 1) };
}

describe.skipIf(url === null)('moving from LMDB to PostgreSQL', () => {
  test(
    `export --data-dir | import - --database-url at ${N / 1000}k artifacts, exact both ways`,
    async () => {
      const work = tempDir('artifactd-move-');
      dirs.push(work);
      const source = join(work, 'lmdb');
      const back = join(work, 'lmdb-again');
      const [fromLmdb, fromPostgres, fromLmdbAgain] = ['lmdb.ndjson', 'postgres.ndjson', 'lmdb-again.ndjson'].map((f) => join(work, f));
      const database = await freshDatabase('move');
      const db = shellQuote(database.url);
      try {
        const started = performance.now();
        const records = await seed(source);
        const seedSeconds = (performance.now() - started) / 1000;

        // The move, as documented: one pipe.
        const moved = await sh(`${CLI} export --data-dir ${shellQuote(source)} | ${CLI} import - --database-url ${db}`);
        expect(moved.err).toBe('');
        expect(moved.code).toBe(0);
        expect(moved.out).toMatch(new RegExp(`^imported stdin: ${records} added, 0 unchanged, 0 kept \\(the store's differs\\), 0 bad lines\\n$`));

        const checked = await sh(`${CLI} check --database-url ${db}`);
        expect(checked.code).toBe(0);

        // Both stores export the same file.
        const lmdbExport = await sh(`${CLI} export --data-dir ${shellQuote(source)} ${shellQuote(fromLmdb)}`);
        const postgresExport = await sh(`${CLI} export --database-url ${db} ${shellQuote(fromPostgres)}`);
        expect([lmdbExport.code, postgresExport.code]).toEqual([0, 0]);
        const [a, b] = [body(fromLmdb), body(fromPostgres)];
        expect(b.counts).toEqual(a.counts);
        expect(b.rest.length).toBe(a.rest.length);
        expect(b.rest === a.rest).toBe(true);

        // And back: the PostgreSQL export into a fresh LMDB store, exported again.
        const backAgain = await sh(`${CLI} import ${shellQuote(fromPostgres)} --data-dir ${shellQuote(back)} && ${CLI} export --data-dir ${shellQuote(back)} ${shellQuote(fromLmdbAgain)}`);
        expect(backAgain.code).toBe(0);
        expect(body(fromLmdbAgain).rest === a.rest).toBe(true);

        const rate = (seconds: number) => `${Math.round(records / seconds).toLocaleString('en-US')} records/s`;
        console.log(
          `move of ${N.toLocaleString('en-US')} artifacts (${records.toLocaleString('en-US')} records, ${(statSync(fromLmdb).size / 1e6).toFixed(0)} MB): ` +
            `seed ${seedSeconds.toFixed(1)} s; export | import ${moved.seconds.toFixed(1)} s (${rate(moved.seconds)}); ` +
            `export from LMDB ${lmdbExport.seconds.toFixed(1)} s (${rate(lmdbExport.seconds)}); export from PostgreSQL ${postgresExport.seconds.toFixed(1)} s (${rate(postgresExport.seconds)}); ` +
            `check ${checked.seconds.toFixed(1)} s; back to LMDB and out ${backAgain.seconds.toFixed(1)} s`,
        );
      } finally {
        await database.drop();
      }
    },
    180_000, // ~50 s on two busy cores; the margin is for slower CI machines
  );
});
