/**
 * `npm run bench -- --queries`: the query matrix, artifactd beside SQLite with Prefect's schema.
 * For each size: seed a store (bench/seed.ts, with the run-side records the filters need), export
 * it with the built executable and load it into a SQLite file in Prefect 3.0.0's schema
 * (load-sqlite.ts), read filter values from it (facts.ts), build the rows (matrix.ts), start the
 * server on the store and the SQLite server (sqlite-server.ts) on the SQLite file, time every row
 * on both over HTTP and in process (measure.ts), then the no-waiting row (no-waiting.ts). With
 * --reuse DIR, a size whose store and SQLite file are already in DIR skips seeding and loading. Writes bench/RESULTS-queries.md after every size, and its summary into
 * bench/RESULTS.md's queries section (report.ts).
 *
 *   npm run bench -- --queries                         # N = 100k and 1M (about 25 minutes)
 *   npm run bench -- --queries --sizes 10000           # a quick look
 *   npm run bench -- --queries --sizes 100000 --rows 'fr\.|count'   # only rows whose id matches
 *   npm run bench -- --queries --sizes 100000 --reuse /tmp/aq        # seed once, rerun cheaply
 *
 * The server is only spoken to over HTTP and the store only written through bench/seed.ts.
 */
import { Database } from 'bun:sqlite';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuWindow, waitForQuiet } from '../cpu.ts';
import { cleanup, installExitHandlers, removeDirOnExit } from '../procs.ts';
import { seed } from '../seed.ts';
import { MemSampler, startArtifactd, startSqliteServer, type Mem, type Running } from '../server.ts';
import { readFacts } from './facts.ts';
import { applyPrefectPragmas, exportStore, loadSqlite, SCHEMA_FILE } from './load-sqlite.ts';
import { buildMatrix } from './matrix.ts';
import { healthFloor, measureRow, SqliteSide, warmUp, type RowResult, type Servers } from './measure.ts';
import { noWaiting } from './no-waiting.ts';
import { fmtMs, fmtN, markdown, noWaitingLine, resultsSection, sqliteMs, updateResultsSection, verdict, type RunInfo, type SizeReport } from './report.ts';

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
  --reuse DIR              keep each size's seeded store and SQLite file in DIR/queries-<N>/ and
                           reuse them on later runs instead of seeding again (made when missing,
                           remade when bench/seed.ts, load-sqlite.ts or the schema changed)
  --keep                   keep the work dir (logs) and, without --reuse, the seeded sizes (a
                           kept run prints the --reuse DIR that reruns on them)`;

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
      reuse: { type: 'string' },
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
    reuse: values.reuse ? resolve(process.cwd(), values.reuse) : undefined,
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

/** What a seeded size dir holds besides the store and the SQLite file: how it was made. */
interface Seeded {
  fingerprint: string;
  seedSeconds: number;
  exportLoadSeconds: number;
  sqliteBytes: number;
  counts: Record<string, number>;
}

/** The code that decides a size dir's contents: a dir made by other code is made again. */
function fingerprint(): string {
  const hash = createHash('sha256');
  for (const f of [join(ROOT, 'bench', 'seed.ts'), join(import.meta.dir, 'load-sqlite.ts'), SCHEMA_FILE]) hash.update(readFileSync(f));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The size's store (`<dir>/store`) and SQLite file (`<dir>/prefect.sqlite`): reused when
 * `<dir>/seeded.json` says they were made by the same seed and loader, else (re)made. The marker
 * is written last, so an interrupted seeding is never reused.
 */
async function seededSize(n: number, dir: string, work: string): Promise<Seeded & { store: string; dbFile: string; reused: boolean }> {
  const store = join(dir, 'store');
  const dbFile = join(dir, 'prefect.sqlite');
  const marker = join(dir, 'seeded.json');
  const fp = fingerprint();
  if (existsSync(marker)) {
    const made = JSON.parse(readFileSync(marker, 'utf8')) as Seeded;
    if (made.fingerprint === fp && existsSync(store) && existsSync(dbFile)) {
      console.log(`reusing ${dir} (seeded earlier in ${made.seedSeconds.toFixed(0)} s)`);
      return { ...made, store, dbFile, reused: true };
    }
    console.log(`${dir} was made by another bench/seed.ts, load-sqlite.ts or schema: seeding it again`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(store, { recursive: true });
  console.log(`seeding ${store}`);
  const seeded = await seed(store, n, undefined, { related: true });
  console.log(`seeded in ${seeded.seconds.toFixed(1)} s`);

  const t0 = performance.now();
  const ndjson = join(work, `export-${fmtN(n)}.ndjson`);
  await exportStore(BINARY, store, ndjson);
  const loaded = await loadSqlite(ndjson, dbFile);
  rmSync(ndjson, { force: true });
  const exportLoadSeconds = (performance.now() - t0) / 1000;
  console.log(
    `exported and loaded into SQLite in ${exportLoadSeconds.toFixed(1)} s: ${Object.entries(loaded.counts)
      .map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`)
      .join(', ')}`,
  );
  const made: Seeded = { fingerprint: fp, seedSeconds: seeded.seconds, exportLoadSeconds, sqliteBytes: loaded.bytes, counts: loaded.counts };
  writeFileSync(marker, `${JSON.stringify(made, null, 2)}\n`);
  return { ...made, store, dbFile, reused: false };
}

async function measureSize(n: number, opts: ReturnType<typeof options>, work: string, root: string): Promise<SizeReport> {
  console.log(`\n── N = ${fmtN(n)} ──`);
  const dir = join(root, `queries-${fmtN(n)}`);
  // Without --reuse or --keep a size's files go as soon as it is measured (1M's take GiBs).
  const removeDir = opts.reuse || opts.keep ? () => {} : removeDirOnExit(dir);
  const seeded = await seededSize(n, dir, work);
  const { store, dbFile } = seeded;

  const db = new Database(dbFile);
  applyPrefectPragmas(db);
  const sqlite = new SqliteSide(db);
  const facts = readFacts(db, n);
  const rows = buildMatrix(facts, opts.rows ? (r) => opts.rows!.test(r.id) : undefined);
  console.log(`${rows.length} rows`);

  const log = join(work, `artifactd-${fmtN(n)}.log`);
  const sqliteLog = join(work, `sqlite-server-${fmtN(n)}.log`);
  let server = await startArtifactd(BINARY, store, log);
  let sqliteServer: Running = await startSqliteServer(dbFile, sqliteLog);
  // artifactd's memory over the whole matrix and the no-waiting row (its query thread included:
  // one process), followed across restarts.
  let memory = new MemSampler(server.proc.pid);
  memory.start(100);
  const memoryPeak: Mem = { vmRss: 0, rssAnon: 0, rssFile: 0 };
  const keepPeak = () => {
    memory.stop();
    for (const k of ['vmRss', 'rssAnon', 'rssFile'] as const) memoryPeak[k] = Math.max(memoryPeak[k], memory.peak[k]);
  };
  const pids = () => [server.proc.pid, sqliteServer.proc.pid];
  let restarts = 0;
  const servers: Servers = {
    artifactd: {
      get url() {
        return server.url;
      },
      async restart() {
        cpu.pause();
        keepPeak();
        server.proc.kill('SIGKILL');
        await server.stop();
        server = await startArtifactd(BINARY, store, log);
        memory = new MemSampler(server.proc.pid);
        memory.start(100);
        restarts++;
        cpu.resume(pids());
      },
    },
    sqlite: {
      get url() {
        return sqliteServer.url;
      },
      async restart() {
        cpu.pause();
        sqliteServer.proc.kill('SIGKILL');
        await sqliteServer.stop();
        sqliteServer = await startSqliteServer(dbFile, sqliteLog);
        cpu.resume(pids());
      },
    },
  };
  /** Other processes' CPU over the matrix, in windows that follow the servers across restarts. */
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
    await warmUp(sqliteServer.url, rows, 3);
    const floorMs = await healthFloor(server.url);
    const sqliteFloorMs = await healthFloor(sqliteServer.url);
    if (opts.quietWait > 0) await waitForQuiet(pids(), opts.quietWait);
    cpu.resume(pids());
    const started = performance.now();
    for (const [i, row] of rows.entries()) {
      if (server.proc.exitCode !== null || server.proc.signalCode) throw new Error(`artifactd died before ${row.id}`);
      if (sqliteServer.proc.exitCode !== null || sqliteServer.proc.signalCode) throw new Error(`the SQLite server died before ${row.id}; see ${sqliteLog}`);
      const r = await measureRow(row, servers, sqlite, { capMs: opts.capMs });
      const rowPeak = memory.takePhasePeak();
      results.push(r);
      const v = verdict(r, undefined, opts.capMs);
      console.log(
        `  ${String(i + 1).padStart(3)}/${rows.length} ${row.id.padEnd(44)} artifactd ${(r.error ? 'error' : r.artifactd.capped ? '> cap' : fmtMs(r.artifactd.ms)).padStart(9)}` +
          `  SQLite ${fmtMs(sqliteMs(r)).padStart(9)}  ${v.ratio !== undefined ? `${v.ratio.toFixed(2)}×` : ''}  (SQL only ${fmtMs(r.sqlOnly.ms ?? r.sqlOnly.samples[0])}) ${r.cls}` +
          `${r.ties ? ' †' : ''}${r.differs ? `  ⚠️ differs: ${r.differs}` : ''}${r.error ? `  ${r.error}` : ''}  RssAnon ${(rowPeak.rssAnon / 1024).toFixed(0)} MiB`,
      );
    }
    const matrixSeconds = (performance.now() - started) / 1000;
    const otherCpu = cpu.other();
    if (restarts) console.log(`${restarts} rows hit the ${opts.capMs / 1000} s cap (the server was restarted after each)`);
    report = {
      n,
      seedSeconds: seeded.seedSeconds,
      exportLoadSeconds: seeded.exportLoadSeconds,
      sqliteBytes: seeded.sqliteBytes,
      counts: seeded.counts,
      reused: seeded.reused ? dir : undefined,
      matrixSeconds,
      restarts,
      floorMs,
      sqliteFloorMs,
      otherCpu,
      results,
    };
    // The no-waiting row's load: the slowest artifactd row that completed. A capped row is left
    // out — in a loop it would be stopped by the server's --query-timeout, not run to its end.
    const slowest = results
      .filter((r) => !r.error && !r.artifactd.capped && r.artifactd.ms !== undefined)
      .reduce<RowResult | undefined>((a, b) => (!a || b.artifactd.ms! > a.artifactd.ms! ? b : a), undefined);
    if (opts.noWaitingSeconds > 0 && slowest) {
      console.log(`no-waiting: ${slowest.row.id} (${fmtMs(slowest.artifactd.ms)}) on 4 connections for ${opts.noWaitingSeconds} s`);
      report.noWaiting = await noWaiting({ url: server.url, row: slowest.row, rowMs: slowest.artifactd.ms, ids: facts.getIds, work, seconds: opts.noWaitingSeconds });
      console.log(`  ${noWaitingLine(report.noWaiting)}`);
    }
    keepPeak();
    report.memoryPeak = { ...memoryPeak };
    console.log(`artifactd memory peak: RssAnon ${(memoryPeak.rssAnon / 1024).toFixed(1)} MiB, RssFile ${(memoryPeak.rssFile / 1024).toFixed(1)} MiB`);
  } finally {
    memory.stop();
    db.close();
    const code = await server.stop();
    if (code !== 0) console.warn(`artifactd exited ${code}`);
    await sqliteServer.stop();
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
  // The sizes' stores and SQLite files: --reuse's dir, else a temp dir (kept with --keep).
  const root = opts.reuse ?? mkdtempSync(join(tmpdir(), 'artifactd-queries-'));
  mkdirSync(root, { recursive: true });
  if (!opts.reuse && !opts.keep) removeDirOnExit(root);
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
      sizes.push(await measureSize(n, opts, work, root));
      await write(false); // a later failure keeps what finished
    }
    await write(true);
    const md = readFileSync(opts.out, 'utf8');
    console.log(`\n${md.slice(md.indexOf('## Summary'), md.indexOf('\n## N = '))}`);
    console.log(`wrote ${relative(process.cwd(), opts.out)}${opts.results ? ` and the queries section of ${relative(process.cwd(), opts.results)}` : ''} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
    if (opts.keep) console.log(`kept: ${work}${opts.reuse ? '' : ` and ${root} (rerun on it with --reuse ${root})`}`);
  } catch (error) {
    console.error(`bench --queries: ${(error as Error).stack ?? error}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}
