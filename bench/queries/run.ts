/**
 * `npm run bench -- --queries`: the query matrix, artifactd beside SQLite with Prefect's schema.
 * For each size: seed a store (bench/seed.ts, with the run-side records the filters need), export
 * it with the built executable and load it into a SQLite file in Prefect 3.0.0's schema
 * (load-sqlite.ts), read filter values from it (facts.ts), build the rows (matrix.ts), start the
 * server on the store and time every row on both sides (measure.ts), then the no-waiting row
 * (no-waiting.ts). Writes bench/RESULTS-queries.md after every size, and its summary into
 * bench/RESULTS.md's queries section (report.ts).
 *
 *   npm run bench -- --queries                         # N = 100k and 1M (about 25 minutes)
 *   npm run bench -- --queries --sizes 10000           # a quick look
 *   npm run bench -- --queries --sizes 100000 --rows 'fr\.|count'   # only rows whose id matches
 *
 * The server is only spoken to over HTTP and the store only written through bench/seed.ts.
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuWindow, waitForQuiet } from '../cpu.ts';
import { cleanup, installExitHandlers, removeDirOnExit } from '../procs.ts';
import { seed } from '../seed.ts';
import { startArtifactd } from '../server.ts';
import { readFacts } from './facts.ts';
import { applyPrefectPragmas, exportStore, loadSqlite } from './load-sqlite.ts';
import { buildMatrix } from './matrix.ts';
import { healthFloor, measureRow, SqliteSide, warmUp, type RowResult, type Server } from './measure.ts';
import { noWaiting } from './no-waiting.ts';
import { fmtMs, fmtN, markdown, resultsSection, updateResultsSection, verdict, type RunInfo, type SizeReport } from './report.ts';

const ROOT = resolve(import.meta.dir, '../..');
const BINARY = join(ROOT, 'dist', 'artifactd');

const USAGE = `usage: npm run bench -- --queries [options]
  --sizes 100000,1000000   store sizes (artifacts) to measure
  --cap 5                  seconds: an artifactd request still running then (or at 1.5 × SQLite's
                           time for the row, if longer) is aborted, reported "> cap", and the
                           server restarted
  --rows REGEX             only rows whose id matches (e.g. 'fr\\.' or 'count$')
  --no-waiting 10          seconds of load for the no-waiting row (0: skip it)
  --out bench/RESULTS-queries.md
  --results bench/RESULTS.md   the file whose queries section gets the summary ('' : none)
  --quiet-wait 60          before each size, wait up to this long for other processes to idle
  --build                  rebuild dist/artifactd even when it looks up to date
  --keep                   keep the data dirs and SQLite files`;

export interface Deps {
  ensureBinary(force: boolean): Promise<void>;
  gitCommit(): Promise<string>;
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '100000,1000000' },
      cap: { type: 'string', default: '5' },
      rows: { type: 'string' },
      'no-waiting': { type: 'string', default: '10' },
      out: { type: 'string', default: 'bench/RESULTS-queries.md' },
      results: { type: 'string', default: 'bench/RESULTS.md' },
      'quiet-wait': { type: 'string', default: '60' },
      build: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const sizes = values.sizes
    .split(',')
    .filter((s) => s.trim())
    .map((s) => {
      const n = Number(s.trim().replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1000) throw new Error(`--sizes: ${s} is not an integer ≥ 1000`);
      return n;
    })
    .sort((a, b) => a - b);
  const rows = values.rows ? new RegExp(values.rows) : undefined;
  return {
    sizes,
    capMs: Number(values.cap) * 1000,
    rows,
    noWaitingSeconds: Number(values['no-waiting']),
    out: resolve(ROOT, values.out),
    results: values.results ? resolve(ROOT, values.results) : undefined,
    quietWait: Number(values['quiet-wait']),
    build: values.build,
    keep: values.keep,
  };
}

function machine(commit: string): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? 'unknown CPU';
  const sqlite = new Database(':memory:');
  const version = (sqlite.query('SELECT sqlite_version() AS v').get() as { v: string }).v;
  sqlite.close();
  return `${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, bun ${Bun.version}, SQLite ${version} (bun:sqlite), artifactd commit ${commit}`;
}

async function measureSize(n: number, opts: ReturnType<typeof options>, work: string): Promise<SizeReport> {
  console.log(`\n── N = ${fmtN(n)} ──`);
  const dir = mkdtempSync(join(tmpdir(), `artifactd-queries-${fmtN(n)}-`));
  const removeDir = opts.keep ? () => {} : removeDirOnExit(dir);
  console.log(`seeding ${dir}`);
  const seeded = await seed(dir, n, undefined, { related: true });
  console.log(`seeded in ${seeded.seconds.toFixed(1)} s`);

  const t0 = performance.now();
  const ndjson = join(work, `export-${fmtN(n)}.ndjson`);
  const dbFile = join(opts.keep ? dir : work, `prefect-${fmtN(n)}.sqlite`);
  await exportStore(BINARY, dir, ndjson);
  const loaded = await loadSqlite(ndjson, dbFile);
  rmSync(ndjson, { force: true });
  const exportLoadSeconds = (performance.now() - t0) / 1000;
  console.log(
    `exported and loaded into SQLite in ${exportLoadSeconds.toFixed(1)} s: ${Object.entries(loaded.counts)
      .map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`)
      .join(', ')}`,
  );

  const db = new Database(dbFile);
  applyPrefectPragmas(db);
  const sqlite = new SqliteSide(db);
  const facts = readFacts(db, n);
  const rows = buildMatrix(facts, opts.rows ? (r) => opts.rows!.test(r.id) : undefined);
  console.log(`${rows.length} rows`);

  const log = join(work, `artifactd-${fmtN(n)}.log`);
  let server = await startArtifactd(BINARY, dir, log);
  let restarts = 0;
  const handle: Server = {
    get url() {
      return server.url;
    },
    async restart() {
      cpu.pause();
      server.proc.kill('SIGKILL');
      await server.stop();
      server = await startArtifactd(BINARY, dir, log);
      restarts++;
      cpu.resume([server.proc.pid]);
    },
  };
  /** Other processes' CPU over the matrix, in windows that follow the server across restarts. */
  const cpu = {
    window: undefined as CpuWindow | undefined,
    coreSeconds: 0,
    seconds: 0,
    t0: 0,
    resume(pids: number[]) {
      this.window = new CpuWindow(pids);
      this.t0 = performance.now();
    },
    pause() {
      if (!this.window) return;
      const s = (performance.now() - this.t0) / 1000;
      this.coreSeconds += this.window.end().other * s;
      this.seconds += s;
      this.window = undefined;
    },
    other() {
      this.pause();
      return this.seconds ? this.coreSeconds / this.seconds : 0;
    },
  };
  const results: RowResult[] = [];
  let report: SizeReport | undefined;
  try {
    await warmUp(server.url, rows, 3);
    const floorMs = await healthFloor(server.url);
    if (opts.quietWait > 0) await waitForQuiet([server.proc.pid], opts.quietWait);
    cpu.resume([server.proc.pid]);
    const started = performance.now();
    for (const [i, row] of rows.entries()) {
      if (server.proc.exitCode !== null || server.proc.signalCode) throw new Error(`artifactd died before ${row.id}`);
      const r = await measureRow(row, handle, sqlite, { capMs: opts.capMs });
      results.push(r);
      const v = verdict(r, undefined, opts.capMs);
      console.log(
        `  ${String(i + 1).padStart(3)}/${rows.length} ${row.id.padEnd(44)} artifactd ${(r.error ? 'error' : r.artifactd.capped ? '> cap' : fmtMs(r.artifactd.ms)).padStart(9)}` +
          `  SQLite ${fmtMs(r.sqlite.ms ?? r.sqlite.samples[0]).padStart(9)}  ${v.ratio !== undefined ? `${v.ratio.toFixed(2)}×` : ''} ${r.cls}` +
          `${r.differs ? `  ⚠️ differs: ${r.differs}` : ''}${r.error ? `  ${r.error}` : ''}`,
      );
    }
    const matrixSeconds = (performance.now() - started) / 1000;
    const otherCpu = cpu.other();
    if (restarts) console.log(`${restarts} rows hit the ${opts.capMs / 1000} s cap (the server was restarted after each)`);
    report = {
      n,
      seedSeconds: seeded.seconds,
      exportLoadSeconds,
      sqliteBytes: loaded.bytes,
      counts: loaded.counts,
      matrixSeconds,
      restarts,
      floorMs,
      otherCpu,
      results,
    };
    // The slowest artifactd row (a capped one counts as the cap) is the no-waiting row's load.
    const slowest = results
      .filter((r) => !r.error)
      .reduce<RowResult | undefined>((a, b) => ((b.artifactd.ms ?? opts.capMs) > (a?.artifactd.ms ?? (a ? opts.capMs : -1)) ? b : a), undefined);
    if (opts.noWaitingSeconds > 0 && slowest) {
      console.log(`no-waiting: ${slowest.row.id} on 4 connections for ${opts.noWaitingSeconds} s`);
      report.noWaiting = await noWaiting({ url: server.url, row: slowest.row, rowMs: slowest.artifactd.ms, ids: facts.getIds, work, seconds: opts.noWaitingSeconds });
      const w = report.noWaiting;
      console.log(
        `  GET by id p99 ${fmtMs(w.idle.get.p99)} idle → ${fmtMs(w.loaded.get.p99)} loaded; health p99 ${fmtMs(w.idle.health.p99)} → ${fmtMs(w.loaded.health.p99)}`,
      );
    }
  } finally {
    db.close();
    const code = await server.stop();
    if (code !== 0) console.warn(`artifactd exited ${code}`);
    if (!opts.keep) rmSync(dbFile, { force: true }), rmSync(`${dbFile}-wal`, { force: true }), rmSync(`${dbFile}-shm`, { force: true });
    removeDir();
  }
  return report;
}

export async function main(argv: string[], deps: Deps): Promise<void> {
  installExitHandlers();
  const opts = options(argv);
  const started = performance.now();
  const command = `npm run bench -- --queries${argv.length ? ` ${argv.join(' ')}` : ''}`;
  await deps.ensureBinary(opts.build);
  const work = mkdtempSync(join(tmpdir(), 'artifactd-queries-work-'));
  if (!opts.keep) removeDirOnExit(work);
  const info = (complete: boolean): RunInfo => ({
    command,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machineText,
    capMs: opts.capMs,
    totalSeconds: (performance.now() - started) / 1000,
    complete,
  });
  const machineText = machine(await deps.gitCommit());
  console.log(`machine: ${machineText}`);
  const sizes: SizeReport[] = [];
  const write = async (complete: boolean) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(opts.out, markdown(info(complete), sizes));
    if (opts.results) updateResultsSection(opts.results, resultsSection(info(complete), sizes, relative(resolve(opts.results, '..'), opts.out)));
  };
  try {
    for (const n of opts.sizes) {
      sizes.push(await measureSize(n, opts, work));
      await write(false); // a later failure keeps what finished
    }
    await write(true);
    const md = readFileSync(opts.out, 'utf8');
    console.log(`\n${md.slice(md.indexOf('## Summary'), md.indexOf('\n## N = '))}`);
    console.log(`wrote ${relative(process.cwd(), opts.out)}${opts.results ? ` and the queries section of ${relative(process.cwd(), opts.results)}` : ''} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
    if (opts.keep) console.log(`kept: ${work}`);
  } catch (error) {
    console.error(`bench --queries: ${(error as Error).stack ?? error}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}
