/**
 * `npm run bench`: seeds stores of N artifacts, starts the built executable on each and drives
 * it over loopback with wrk, beside a bare `Bun.serve` ceiling measured in the same run; prints
 * one table per N and writes them, with the machine and the targets, to bench/RESULTS.md.
 *
 *   npm run bench                              # N = 10k and 100k
 *   npm run bench -- --million                 # adds N = 1M
 *   npm run bench -- --sizes 10000 --duration 2 --scenarios get-by-id,count-all
 *
 * Not a test: nothing here asserts; the targets are reported with ✅/❌.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadArgOptions, loadOptions } from './args.ts';
import { describeMachine, fmtLatency, fmtN, markdown, NOISY, sizeTable, type RunInfo, type ScenarioResult, type SizeResult } from './report.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { seed } from './seed.ts';
import { CpuWindow, waitForQuiet, type CpuUse } from './cpu.ts';
import { cleanup, installExitHandlers, removeDirOnExit } from './procs.ts';
import { dirSize, MemSampler, readMem, startArtifactd, startCeiling, type Mem, type Running } from './server.ts';
import { keptSection, withSection } from './queries/report.ts';
import { keptPostgresSection, withPostgresSection } from './pg-section.ts';
import { keptLogsSection, withLogsSection } from './ingest/section.ts';
import { ensureWrk, runWrk, writeRequests, type Req } from './wrk.ts';

const ROOT = resolve(import.meta.dir, '..');
const BINARY = join(ROOT, 'dist', 'artifactd');

const USAGE = `usage: npm run bench -- [options]
  --sizes 10000,100000   store sizes (artifacts) to measure
  --million              also measure N = 1,000,000
  --duration 5           seconds of load per scenario
  --warmup 1             seconds of unrecorded load before each scenario
  --connections 32       wrk connections for the read scenarios (creates always use 64)
  --threads 1            wrk threads for the read scenarios (creates always use 2)
  --rounds 2             measure each read scenario this many times, round-robin; report the best
  --scenarios a,b        only these scenario ids (${SCENARIOS.map((s) => s.id).join(', ')})
  --out bench/RESULTS.md where to write the results
  --quiet-wait 60        before each size, wait up to this many seconds for other processes
                         to use < 0.1 core (0: don't wait)
  --build                rebuild dist/artifactd even when it looks up to date
  --keep                 keep the data and work dirs (printed at the end)
  --queries              instead: the query matrix beside SQLite (npm run bench -- --queries --help)
  --only logs,events     instead: the logs and events bench (npm run bench -- --only all --help)`;

function options() {
  const { values } = parseArgs({
    options: loadArgOptions('10000,100000'),
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const { only, ...shared } = loadOptions(values);
  return { ...shared, scenarios: SCENARIOS.filter((s) => !only || only.includes(s.id) || s.target === 'ceiling') };
}

async function sh(cmd: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out: (out + err).trim() };
}

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Builds dist/artifactd unless it is newer than every source it is made of. */
async function ensureBinary(force: boolean): Promise<void> {
  let built = 0;
  try {
    built = statSync(BINARY).mtimeMs;
  } catch {
    // missing
  }
  const sources = Math.max(
    newestMtime(join(ROOT, 'src')),
    newestMtime(join(ROOT, 'scripts')),
    newestMtime(join(ROOT, 'package.json')),
    newestMtime(join(ROOT, 'package-lock.json')),
  );
  if (!force && built > sources) {
    console.log(`dist/artifactd is up to date`);
    return;
  }
  console.log('building dist/artifactd (npm run build)…');
  const { code, out } = await sh([process.execPath, 'scripts/build.ts']);
  if (code !== 0) throw new Error(`npm run build failed:\n${out}`);
  console.log(`  ${out.split('\n').pop()}`);
}

async function gitCommit(): Promise<string> {
  const head = await sh(['git', 'rev-parse', '--short', 'HEAD']);
  if (head.code !== 0) return 'unknown';
  const dirty = await sh(['git', 'status', '--porcelain', '--', 'src', 'scripts', 'package.json']);
  return dirty.out ? `${head.out} + uncommitted changes in src/ or scripts/` : head.out;
}

async function filesystemOf(dir: string): Promise<string> {
  const { code, out } = await sh(['df', '-T', '-h', dir]);
  const row = out.split('\n')[1]?.split(/\s+/);
  return code === 0 && row ? `${dir}: ${row[1]} (${row[4]} free of ${row[2]})` : dir;
}

/** One request before the load: the answer must have the expected status; returns its size. */
async function smoke(url: string, first: Req, status: number, title: string): Promise<number> {
  // The size on the wire: gzipped when the scenario asks for it, as wrk will send it.
  const headers: Record<string, string> = { 'accept-encoding': first.gzip ? 'gzip' : 'identity' };
  if (first.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + first.path, { method: first.method, body: first.body, headers, decompress: false });
  const text = await res.arrayBuffer();
  if (res.status !== status) {
    throw new Error(`${title}: ${first.method} ${first.path} answered ${res.status}, expected ${status}: ${new TextDecoder().decode(text).slice(0, 300)}`);
  }
  return text.byteLength;
}

/**
 * Waits until the server has drained what the previous scenario left in flight (answers to
 * connections wrk already closed): /api/health must answer within 5 ms three times in a row.
 */
async function settle(url: string, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  let fast = 0;
  while (fast < 3 && Date.now() < deadline && alive()) {
    const t0 = performance.now();
    try {
      await (await fetch(`${url}/api/health`)).arrayBuffer();
      fast = performance.now() - t0 < 5 ? fast + 1 : 0;
    } catch {
      fast = 0;
    }
    if (fast < 3) await Bun.sleep(20);
  }
}

/** The last lines of a log file, indented. */
function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return `    (no log at ${file})`;
  }
}

/** The file's section written by `--queries` (bench/queries/report.ts), kept under the new tables. */
function withQueries(file: string, md: string): string {
  const kept = keptSection(file);
  const pg = keptPostgresSection(file);
  const logs = keptLogsSection(file);
  const out = kept ? withSection(md, kept) : md;
  const withPg = pg ? withPostgresSection(out, pg) : out;
  return logs ? withLogsSection(withPg, logs) : withPg;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * The measurement with the highest req/s stands for the scenario (interference on a shared
 * machine only ever slows a run down); every round's req/s is kept beside it, errors summed
 * and the memory peak is over all rounds.
 */
function bestOf(all: ScenarioResult[]): ScenarioResult {
  const best = all.reduce((a, b) => (b.rps > a.rps ? b : a));
  return {
    ...best,
    rounds: all.map((r) => r.rps),
    non2xx: all.reduce((sum, r) => sum + r.non2xx, 0),
    socketErrors: all.reduce((sum, r) => sum + r.socketErrors, 0),
    mem: all.reduce((m, r) => maxMem(m, r.mem), ZERO),
  };
}

const ZERO: Mem = { vmRss: 0, rssAnon: 0, rssFile: 0 };
const maxMem = (a: Mem, b: Mem): Mem => ({ vmRss: Math.max(a.vmRss, b.vmRss), rssAnon: Math.max(a.rssAnon, b.rssAnon), rssFile: Math.max(a.rssFile, b.rssFile) });

async function main(): Promise<void> {
  installExitHandlers();
  const opts = options();
  const started = performance.now();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

  const wrk = await ensureWrk();
  await ensureBinary(opts.build);
  const work = mkdtempSync(join(tmpdir(), 'artifactd-bench-work-'));
  if (!opts.keep) removeDirOnExit(work);
  const machine = describeMachine({ wrk, filesystem: await filesystemOf(tmpdir()), commit: await gitCommit() });
  console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, ${machine.kernel}, bun ${machine.bun}, wrk ${machine.wrk}`);
  console.log(
    `sizes: ${opts.sizes.map(fmtN).join(', ')}; ${opts.duration} s per measurement (+${opts.warmup} s warm-up); ` +
      `reads ${opts.rounds}× round-robin with -c${opts.connections} -t${opts.threads}, creates once with -c64 -t2`,
  );

  const ceiling = await startCeiling(join(work, 'ceiling.log'));
  const results: SizeResult[] = [];
  const info = (complete: boolean): RunInfo => ({
    machine,
    duration: opts.duration,
    warmup: opts.warmup,
    connections: opts.connections,
    threads: opts.threads,
    rounds: opts.rounds,
    command,
    totalSeconds: (performance.now() - started) / 1000,
    complete,
  });
  const dataDirs: string[] = [];

  for (const n of opts.sizes) {
    console.log(`\n── N = ${fmtN(n)} ──`);
    const dir = mkdtempSync(join(tmpdir(), `artifactd-bench-${fmtN(n)}-`));
    dataDirs.push(dir);
    const removeDir = opts.keep ? () => {} : removeDirOnExit(dir);
    console.log(`seeding ${dir}`);
    const seeded = await seed(dir, n);
    console.log(`seeded in ${seeded.seconds.toFixed(1)} s (artifacts at ${Math.round(seeded.artifactRate).toLocaleString('en-US')}/s)`);
    const diskAfterSeed = dirSize(dir);

    const serverLog = join(work, `artifactd-${fmtN(n)}.log`);
    const server: Running = await startArtifactd(BINARY, dir, serverLog);
    const loggedLog = join(work, `artifactd-logged-${fmtN(n)}.log`);
    const logged = opts.scenarios.some((sc) => sc.target === 'artifactd-logged')
      ? await startArtifactd(BINARY, dir, loggedLog, { requestLogs: true })
      : undefined;
    const pid = server.proc.pid;
    await Bun.sleep(300);
    const idle = readMem(pid) ?? ZERO;
    const sampler = new MemSampler(pid);
    sampler.start(200);
    const scenarios: ScenarioResult[] = [];
    let readPeak = ZERO;
    const servers = [pid, ceiling.proc.pid, ...(logged ? [logged.proc.pid] : [])];
    const quiet = opts.quietWait > 0 ? await waitForQuiet(servers, opts.quietWait) : undefined;
    const loadBefore = loadavg();
    const alive = () => server.proc.exitCode === null && !server.proc.signalCode;
    const runs = new Map<string, ScenarioResult[]>();
    /** One measurement of a scenario: smoke request, warm-up, settle, measured run, settle. */
    let remeasures = 0;
    /** A measurement that shared the machine is taken again once the machine is quiet (at most 6 per size). */
    const measureQuietly = async (sc: Scenario, round: string) => {
      const cpu = await measure(sc, round);
      if (cpu.other > NOISY && remeasures < 6 && opts.quietWait > 0) {
        remeasures++;
        console.log(`     other processes took ${cpu.other.toFixed(2)} cores: measuring "${sc.title}" again once the machine is quiet`);
        await waitForQuiet(servers, Math.min(30, opts.quietWait));
        await measure(sc, `${round}'`);
      }
    };
    const measure = async (sc: Scenario, round: string): Promise<CpuUse> => {
      if (!alive()) {
        throw new Error(`artifactd died (exit ${server.proc.exitCode ?? server.proc.signalCode}) before "${sc.title}"; its log:\n${tail(serverLog)}`);
      }
      const reqs = sc.requests(seeded);
      const file = join(work, `${sc.id}-${fmtN(n)}.tsv`);
      writeRequests(file, reqs);
      const url = sc.target === 'ceiling' ? ceiling.url : sc.target === 'artifactd-logged' ? logged!.url : server.url;
      const bodyBytes = await smoke(url, reqs[0], sc.status, sc.title);
      const load = { url, requestFile: file, connections: sc.connections ?? opts.connections, threads: sc.threads ?? opts.threads };
      if (opts.warmup > 0) await runWrk({ ...load, seconds: opts.warmup });
      if (sc.target === 'artifactd') await settle(server.url, alive);
      sampler.takePhasePeak();
      const window = new CpuWindow(servers);
      const r = await runWrk({ ...load, seconds: opts.duration });
      const cpu = window.end();
      if (sc.target === 'artifactd') await settle(server.url, alive); // its tail (answers in flight) counts to its memory peak
      const mem = sampler.takePhasePeak();
      if (sc.target === 'artifactd' && sc.id !== 'create-64') readPeak = maxMem(readPeak, mem);
      const { raw: _raw, ...figures } = r;
      const result: ScenarioResult = { id: sc.id, title: sc.title, ...load, ...figures, bodyBytes, mem, sampled: sc.target === 'artifactd', cpu, rounds: [r.rps] };
      runs.set(sc.id, [...(runs.get(sc.id) ?? []), result]);
      const errors = r.non2xx + r.socketErrors ? `  ⚠ ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : '';
      console.log(
        `  ${round} ${sc.title.padEnd(54)} ${Math.round(r.rps).toLocaleString('en-US').padStart(9)} req/s  p50 ${fmtLatency(r.p50).padStart(9)}  ` +
          `p99 ${fmtLatency(r.p99).padStart(9)}  ${sc.target === 'artifactd' ? `RssAnon ${(mem.rssAnon / 1024).toFixed(0).padStart(4)} MiB` : ' '.repeat(16)}  ` +
          `other CPU ${cpu.other.toFixed(2)}${errors}`,
      );
      return cpu;
    };
    try {
      // Reads round-robin, so a passing disturbance hits one round of a scenario, not all;
      // the creates once at the end (they grow the store the reads are measured on).
      const reads = opts.scenarios.filter((sc) => !sc.writes);
      for (let round = 1; round <= opts.rounds; round++) for (const sc of reads) await measureQuietly(sc, `r${round}`);
      // Not re-measured: a second create run would measure a bigger store.
      for (const sc of opts.scenarios.filter((sc) => sc.writes)) await measure(sc, '  ');
      for (const sc of opts.scenarios) {
        const all = runs.get(sc.id);
        if (all) scenarios.push(bestOf(all));
      }
    } finally {
      sampler.stop();
      await logged?.stop();
      const code = await server.stop();
      if (code !== 0) console.warn(`artifactd exited ${code} (expected 0 on SIGTERM); its log:\n${tail(serverLog)}`);
    }
    results.push({
      n,
      flowRuns: seeded.flowRuns,
      taskRuns: seeded.taskRuns,
      keys: seeded.keys,
      seedSeconds: seeded.seconds,
      artifactRate: seeded.artifactRate,
      idle,
      peak: sampler.peak,
      readPeak,
      diskAfterSeed,
      diskFinal: dirSize(dir),
      loadavg: loadBefore,
      quiet: quiet && { waited: quiet.waited, other: quiet.use.other },
      scenarios,
    });
    removeDir();
    console.log(`\n${sizeTable(results[results.length - 1], results[0])}`);
    writeFileSync(opts.out, withQueries(opts.out, markdown(info(false), results))); // a later failure keeps what finished
  }

  await ceiling.stop();
  const md = markdown(info(true), results);
  writeFileSync(opts.out, withQueries(opts.out, md));
  console.log(`\n${md.slice(md.indexOf('## Targets'))}`);
  console.log(`wrote ${relative(process.cwd(), opts.out) || opts.out} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  if (opts.keep) console.log(`kept: ${[work, ...dataDirs].join(' ')}`);
}

if (process.argv.some((a) => a === '--only' || a.startsWith('--only='))) {
  // Logs and events (issue 14), on LMDB and with --postgres beside it: bench/ingest/run.ts (see bench/README.md).
  const ingest = await import('./ingest/run.ts');
  await ingest.runMain(process.argv.slice(2), { ensureBinary, gitCommit });
} else if (process.argv.includes('--postgres')) {
  // The same scenarios over LMDB and PostgreSQL, one and two instances: bench/postgres.ts (see bench/README.md).
  const postgres = await import('./postgres.ts');
  await postgres.runMain(process.argv.slice(2).filter((a) => a !== '--postgres'), { ensureBinary, gitCommit });
} else if (process.argv.includes('--queries')) {
  // The query matrix beside SQLite: bench/queries/run.ts (see bench/README.md).
  const queries = await import('./queries/run.ts');
  await queries.main(process.argv.slice(2).filter((a) => a !== '--queries'), { ensureBinary, gitCommit });
} else {
  try {
    await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}
