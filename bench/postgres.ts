/**
 * `npm run bench -- --postgres`: the load scenarios of the main bench (scenarios.ts) over LMDB and
 * over PostgreSQL in one run — PostgreSQL served by one artifactd instance and by two sharing the
 * load — with the targets of issue 13 as ratios measured in that run, PostgreSQL's CPU share, and
 * a profile of each PostgreSQL measurement (pg_stat_statements). See bench/README.md.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SQL } from 'bun';
import { loadArgOptions, loadOptions, positive } from './args.ts';
import { CpuWindow, waitForQuiet, type CpuUse } from './cpu.ts';
import { startBenchCluster, treeTicks, processTicks, type BenchCluster } from './pg-cluster.ts';
import { seedPostgresFromLmdb, type PgSeeded } from './pg-seed.ts';
import { cleanup, installExitHandlers, removeDirOnExit } from './procs.ts';
import { describeMachine, fmtLatency, fmtN, NOISY as NOISY_CPU, type Machine } from './report.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { seed, type Seeded } from './seed.ts';
import { readMem, startArtifactd } from './server.ts';
import { BEGIN, END, withPostgresSection } from './pg-section.ts';
import { ensureWrk, runWrk, writeRequests, type Req, type WrkResult } from './wrk.ts';

const ROOT = resolve(import.meta.dir, '..');
const BINARY = join(ROOT, 'dist', 'artifactd');

const USAGE = `usage: npm run bench -- --postgres [options]

The main bench's scenarios over LMDB and PostgreSQL (one and two artifactd instances) in one run;
writes the PostgreSQL section of bench/RESULTS.md. See bench/README.md.

  --sizes 10000,1000000   artifacts per size (the 1M-vs-10k targets need both)
  --duration 5            seconds per measurement
  --warmup 1              unrecorded seconds before each
  --rounds 2              measurements of each read scenario per target (round-robin)
  --connections 32        wrk connections for reads (creates: 64)
  --threads 1             wrk threads for reads (two instances: at least 2, one per instance)
  --scenarios a,b         only these (ids of bench/scenarios.ts)
  --pool-size N           artifactd's --database-pool-size (default: artifactd's, 10)
  --out bench/RESULTS.md  where the section goes
  --quiet-wait 60         seconds to wait for a quiet machine before each size
  --build                 rebuild dist/artifactd
  --keep                  keep the temp dirs and the cluster's logs`;

export interface Helpers {
  ensureBinary(force: boolean): Promise<void>;
  gitCommit(): Promise<string>;
}

type TargetId = 'lmdb' | 'pg1' | 'pg2';
const TARGETS: { id: TargetId; label: string }[] = [
  { id: 'lmdb', label: 'LMDB' },
  { id: 'pg1', label: 'PostgreSQL, 1 instance' },
  { id: 'pg2', label: 'PostgreSQL, 2 instances' },
];

interface Statement {
  calls: number;
  meanMs: number;
  totalMs: number;
  query: string;
}

interface Measurement extends Omit<WrkResult, 'raw'> {
  target: TargetId;
  scenario: string;
  cpu: CpuUse;
  /** cores used during the window */
  artifactdCores: number;
  postgresCores: number;
  /** PostgreSQL execution time per request (pg_stat_statements, all statements of the database), ms */
  dbMsPerRequest?: number;
  /** the statements that took the most execution time */
  top?: Statement[];
  rounds: number[];
}

interface SizeRun {
  n: number;
  seeded: Seeded;
  pg: PgSeeded;
  loadavg: string;
  /** scenario id → target → best measurement */
  results: Map<string, Map<TargetId, Measurement>>;
  rss: Record<TargetId, number>;
}

interface Options {
  sizes: number[];
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  threads: number;
  scenarios: Scenario[];
  poolSize?: number;
  out: string;
  quietWait: number;
  build: boolean;
  keep: boolean;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { ...loadArgOptions('10000,1000000'), 'pool-size': { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const { only, ...shared } = loadOptions(values);
  return {
    ...shared,
    // The artifactd scenarios; the ceiling and the request-logs server are the main bench's business.
    scenarios: SCENARIOS.filter((s) => s.target === 'artifactd' && (!only || only.includes(s.id))),
    poolSize: values['pool-size'] === undefined ? undefined : positive('pool-size', values['pool-size']),
  };
}

async function smoke(url: string, first: Req, status: number, title: string): Promise<void> {
  const headers: Record<string, string> = { 'accept-encoding': first.gzip ? 'gzip' : 'identity' };
  if (first.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + first.path, { method: first.method, body: first.body, headers, decompress: false });
  const text = await res.arrayBuffer();
  if (res.status !== status) {
    throw new Error(`${title}: ${first.method} ${first.path} at ${url} answered ${res.status}, expected ${status}: ${new TextDecoder().decode(text).slice(0, 300)}`);
  }
}

/** Waits until the server answers /api/health within 5 ms three times in a row (its backlog drained). */
async function settle(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let fast = 0;
  while (fast < 3 && Date.now() < deadline) {
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

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function resetStatements(admin: SQL): Promise<void> {
  await admin.unsafe('SELECT pg_stat_statements_reset()');
}

async function readStatements(admin: SQL, database: string): Promise<Statement[]> {
  const rows = (await admin.unsafe(
    `SELECT s.calls, s.total_exec_time AS total, s.mean_exec_time AS mean, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 400) AS query
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = $1 ORDER BY s.total_exec_time DESC`,
    [database],
  )) as { calls: string; total: number; mean: number; query: string }[];
  return rows.map((r) => ({ calls: Number(r.calls), totalMs: Number(r.total), meanMs: Number(r.mean), query: r.query }));
}

export async function main(argv: string[], helpers: Helpers): Promise<void> {
  installExitHandlers();
  const opts = options(argv);
  const started = performance.now();
  const command = `npm run bench -- --postgres${argv.length ? ` ${argv.join(' ')}` : ''}`;
  const wrk = await ensureWrk();
  await helpers.ensureBinary(opts.build);
  const work = mkdtempSync(join(tmpdir(), 'artifactd-bench-pg-work-'));
  if (!opts.keep) removeDirOnExit(work);
  const machine = describeMachine({ wrk, filesystem: tmpdir(), commit: await helpers.gitCommit() });
  console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, bun ${machine.bun}, wrk ${machine.wrk}`);
  console.log('starting a durable PostgreSQL cluster…');
  const cluster = await startBenchCluster();
  console.log(`PostgreSQL ${cluster.version} at 127.0.0.1:${cluster.port} (${Object.entries(cluster.settings).map(([k, v]) => `${k}=${v}`).join(', ')})`);
  if (!cluster.statements) console.log('  pg_stat_statements is not available: no statement profiles');
  const pgTicks = () => treeTicks(cluster.pid);
  const sizes: SizeRun[] = [];
  const write = (complete: boolean) => {
    const section = render({ machine, command, opts, cluster, sizes, minutes: (performance.now() - started) / 60000, complete });
    const text = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
    writeFileSync(opts.out, withPostgresSection(text, section));
  };

  for (const n of opts.sizes) {
    console.log(`\n── N = ${fmtN(n)} ──`);
    const dir = mkdtempSync(join(tmpdir(), `artifactd-bench-pg-lmdb-${fmtN(n)}-`));
    const removeDir = opts.keep ? () => {} : removeDirOnExit(dir);
    console.log(`seeding LMDB ${dir}`);
    const seeded = await seed(dir, n);
    console.log(`seeded LMDB in ${seeded.seconds.toFixed(1)} s; copying it into PostgreSQL…`);
    const database = `bench_${n}`;
    const url = await cluster.createDatabase(database);
    const pgSeeded = await seedPostgresFromLmdb(dir, url);
    console.log(`seeded PostgreSQL in ${pgSeeded.seconds.toFixed(1)} s (${(pgSeeded.bytes / 1024 ** 2).toFixed(0)} MiB)`);

    const pool = opts.poolSize ? ['--database-pool-size', String(opts.poolSize)] : [];
    const lmdb = await startArtifactd(BINARY, dir, join(work, `lmdb-${n}.log`));
    const pgA = await startArtifactd(BINARY, '', join(work, `pg-a-${n}.log`), { databaseUrl: url, extraArgs: pool });
    const pgB = await startArtifactd(BINARY, '', join(work, `pg-b-${n}.log`), { databaseUrl: url, extraArgs: pool });
    const servers = [lmdb, pgA, pgB];
    const serverPids = servers.map((s) => s.proc.pid);
    const target = (id: TargetId): { urls: string[]; pids: number[]; threads: number; spread?: number[] } =>
      id === 'lmdb'
        ? { urls: [lmdb.url], pids: [lmdb.proc.pid], threads: opts.threads }
        : id === 'pg1'
          ? { urls: [pgA.url], pids: [pgA.proc.pid], threads: opts.threads }
          : { urls: [pgA.url, pgB.url], pids: [pgA.proc.pid, pgB.proc.pid], threads: Math.max(2, opts.threads), spread: [Number(new URL(pgB.url).port)] };
    const alive = () => servers.every((s) => s.proc.exitCode === null && !s.proc.signalCode);
    if (opts.quietWait > 0) await waitForQuiet(serverPids, opts.quietWait, 0.1, pgTicks);
    const run: SizeRun = { n, seeded, pg: pgSeeded, loadavg: loadavg(), results: new Map(), rss: { lmdb: 0, pg1: 0, pg2: 0 } };
    sizes.push(run);
    let remeasures = 0;

    const measure = async (sc: Scenario, id: TargetId, round: string): Promise<Measurement> => {
      if (!alive()) throw new Error(`an artifactd exited before "${sc.title}"; logs in ${work}`);
      const t = target(id);
      const reqs = sc.requests(seeded);
      const file = join(work, `${sc.id}-${n}.tsv`);
      writeRequests(file, reqs);
      for (const u of t.urls) await smoke(u, reqs[0], sc.status, sc.title);
      const load = { url: t.urls[0], requestFile: file, connections: sc.connections ?? opts.connections, threads: Math.max(sc.threads ?? opts.threads, t.threads), spreadPorts: t.spread };
      if (opts.warmup > 0) await runWrk({ ...load, seconds: opts.warmup });
      for (const u of t.urls) await settle(u);
      const pg = id !== 'lmdb' && cluster.statements;
      if (pg) await resetStatements(cluster.admin);
      const window = new CpuWindow(serverPids, pgTicks);
      const t0 = performance.now();
      const aTicks0 = t.pids.reduce((s, p) => s + processTicks(p), 0);
      const pTicks0 = pgTicks();
      const r = await runWrk({ ...load, seconds: opts.duration });
      const seconds = (performance.now() - t0) / 1000;
      const artifactdCores = (t.pids.reduce((s, p) => s + processTicks(p), 0) - aTicks0) / 100 / seconds;
      const postgresCores = (pgTicks() - pTicks0) / 100 / seconds;
      const cpu = window.end();
      let dbMsPerRequest: number | undefined;
      let top: Statement[] | undefined;
      if (pg) {
        const all = await readStatements(cluster.admin, database);
        dbMsPerRequest = all.reduce((s, x) => s + x.totalMs, 0) / Math.max(1, r.requests);
        top = all.slice(0, 3);
      }
      for (const u of t.urls) await settle(u);
      for (const [i, s] of servers.entries()) {
        const key: TargetId = i === 0 ? 'lmdb' : i === 1 ? 'pg1' : 'pg2';
        run.rss[key] = Math.max(run.rss[key], readMem(s.proc.pid)?.rssAnon ?? 0);
      }
      const { raw: _raw, ...figures } = r;
      const m: Measurement = { ...figures, target: id, scenario: sc.id, cpu, artifactdCores, postgresCores, dbMsPerRequest, top, rounds: [r.rps] };
      const errors = r.non2xx + r.socketErrors ? `  ⚠ ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : '';
      console.log(
        `  ${round} ${sc.title.slice(0, 44).padEnd(44)} ${id.padEnd(4)} ${Math.round(r.rps).toLocaleString('en-US').padStart(8)} req/s  p50 ${fmtLatency(r.p50).padStart(9)}  p99 ${fmtLatency(r.p99).padStart(9)}  ` +
          `artifactd ${artifactdCores.toFixed(2)} pg ${postgresCores.toFixed(2)} cores${dbMsPerRequest !== undefined ? `, pg ${dbMsPerRequest.toFixed(3)} ms/req` : ''}  other ${cpu.other.toFixed(2)}${errors}`,
      );
      const byTarget = run.results.get(sc.id) ?? new Map<TargetId, Measurement>();
      run.results.set(sc.id, byTarget);
      const prev = byTarget.get(id);
      byTarget.set(id, prev ? { ...(m.rps > prev.rps ? m : prev), rounds: [...prev.rounds, r.rps], non2xx: prev.non2xx + m.non2xx, socketErrors: prev.socketErrors + m.socketErrors } : m);
      return m;
    };

    try {
      const reads = opts.scenarios.filter((s) => !s.writes);
      for (let round = 1; round <= opts.rounds; round++) {
        for (const sc of reads) {
          for (const { id } of TARGETS) {
            const m = await measure(sc, id, `r${round}`);
            if (m.cpu.other > NOISY_CPU && remeasures < 8 && opts.quietWait > 0) {
              remeasures++;
              console.log(`     other processes took ${m.cpu.other.toFixed(2)} cores: measuring again once the machine is quiet`);
              await waitForQuiet(serverPids, Math.min(30, opts.quietWait), 0.1, pgTicks);
              await measure(sc, id, `r${round}'`);
            }
          }
        }
      }
      // Creates last (they grow the stores): once per target.
      for (const sc of opts.scenarios.filter((s) => s.writes)) for (const { id } of TARGETS) await measure(sc, id, '  ');
    } finally {
      for (const s of servers) {
        const code = await s.stop();
        if (code !== 0) console.warn(`an artifactd exited ${code} (expected 0 on SIGTERM); logs in ${work}`);
      }
    }
    if (!opts.keep) await cluster.admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    removeDir();
    write(false);
    console.log(`\n${sizeTable(run, opts.scenarios)}`);
  }
  write(true);
  cluster.stop();
  const text = readFileSync(opts.out, 'utf8');
  console.log(`\n${text.slice(text.indexOf(BEGIN))}`);
  console.log(`wrote the PostgreSQL section of ${relative(process.cwd(), opts.out) || opts.out} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  if (opts.keep) console.log(`kept: ${work}`);
}

export async function runMain(argv: string[], helpers: Helpers): Promise<void> {
  try {
    await main(argv, helpers);
  } catch (error) {
    console.error(`bench --postgres: ${(error as Error).stack ?? (error as Error).message}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}

// ── report ─────────────────────────────────────────────────────────────────────────────────

const rps = (m: Measurement | undefined) => (m ? Math.round(m.rps).toLocaleString('en-US') : '—');
const pct = (a: Measurement | undefined, b: Measurement | undefined) => (a && b && b.rps > 0 ? `${((a.rps / b.rps) * 100).toFixed(a.rps / b.rps < 0.1 ? 1 : 0)}%` : '—');
const share = (m: Measurement | undefined) => (m && m.postgresCores + m.artifactdCores > 0 ? `${Math.round((m.postgresCores / (m.postgresCores + m.artifactdCores)) * 100)}%` : '—');
const cores = (m: Measurement | undefined) => (m ? `${m.artifactdCores.toFixed(2)} / ${m.postgresCores.toFixed(2)}` : '—');

function sizeTable(run: SizeRun, scenarios: Scenario[]): string {
  const lines = [
    '| scenario | LMDB req/s | PG ×1 req/s | ×1 ÷ LMDB | PG ×2 req/s | ×2 ÷ LMDB | p50 LMDB · ×1 · ×2 | p99 LMDB · ×1 · ×2 | PG CPU share ×1 · ×2 | cores artifactd / PG, ×1 · ×2 | PG exec ms/request ×1 · ×2 | other CPU (max) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const sc of scenarios) {
    const r = run.results.get(sc.id);
    if (!r) continue;
    const [l, a, b] = [r.get('lmdb'), r.get('pg1'), r.get('pg2')];
    const lat = (f: 'p50' | 'p99') => [l, a, b].map((m) => (m ? fmtLatency(m[f]) : '—')).join(' · ');
    const other = Math.max(...[l, a, b].map((m) => m?.cpu.other ?? 0));
    const exec = [a, b].map((m) => (m?.dbMsPerRequest === undefined ? '—' : m.dbMsPerRequest.toFixed(3))).join(' · ');
    lines.push(
      `| ${sc.title} | ${rps(l)} | ${rps(a)} | ${pct(a, l)} | ${rps(b)} | ${pct(b, l)} | ${lat('p50')} | ${lat('p99')} | ${share(a)} · ${share(b)} | ${cores(a)} · ${cores(b)} | ${exec} | ${other.toFixed(2)}${other > NOISY_CPU ? ' ⚠️' : ''} |`,
    );
  }
  return lines.join('\n');
}

interface RenderInput {
  machine: Machine;
  command: string;
  opts: Options;
  cluster: BenchCluster;
  sizes: SizeRun[];
  minutes: number;
  complete: boolean;
}

const mark = (ok: boolean) => (ok ? '✅' : '❌');

function targets(sizes: SizeRun[]): string[] {
  const rows: string[] = ['| target | measured | ×1 | ×2 |', '|---|---|:-:|:-:|'];
  const ratio = (id: string, min: number, title: string) => {
    for (const s of sizes) {
      const r = s.results.get(id);
      const l = r?.get('lmdb');
      const a = r?.get('pg1');
      const b = r?.get('pg2');
      if (!l || !a || !b) continue;
      const ra = a.rps / l.rps;
      const rb = b.rps / l.rps;
      rows.push(
        `| ${title} ≥ ${min * 100}% of LMDB's req/s (${fmtN(s.n)}) | ×1 ${pct(a, l)} (${rps(a)} of ${rps(l)}); ×2 ${pct(b, l)} (${rps(b)}) | ${mark(ra >= min)} | ${mark(rb >= min)} |`,
      );
    }
  };
  ratio('get-by-id', 0.25, 'GET by id');
  ratio('latest-by-key', 0.25, 'GET latest by key');
  ratio('filter-all-200', 0.5, 'filter `{}` limit 200');
  ratio('filter-flow-run-10', 0.3, 'filter by flow run limit 10');
  for (const s of sizes) {
    const r = s.results.get('create-64');
    const a = r?.get('pg1');
    const b = r?.get('pg2');
    if (!a || !b) continue;
    rows.push(
      `| ≥ 2,000 durable creates/s at 64 connections (${fmtN(s.n)}) | ×1 ${rps(a)}/s (p99 ${fmtLatency(a.p99)}); ×2 ${rps(b)}/s (p99 ${fmtLatency(b.p99)}); LMDB ${rps(r?.get('lmdb'))}/s | ${mark(a.rps >= 2000)} | ${mark(b.rps >= 2000)} |`,
    );
  }
  const small = sizes.find((s) => s.n === 10_000) ?? sizes[0];
  const big = sizes.find((s) => s.n === 1_000_000);
  for (const [id, title] of [
    ['latest-by-key', 'GET latest by key'],
    ['filter-flow-run-10', 'filter by flow run limit 10'],
  ] as const) {
    if (!small || !big || small === big) continue;
    const cell = (t: TargetId) => {
      const x = small.results.get(id)?.get(t);
      const y = big.results.get(id)?.get(t);
      return x && y ? { text: `${fmtLatency(y.p50)} vs ${fmtLatency(x.p50)}: ${(y.p50 / x.p50).toFixed(2)}×`, ok: y.p50 / x.p50 <= 1.5 } : undefined;
    };
    const [a, b, l] = [cell('pg1'), cell('pg2'), cell('lmdb')];
    if (!a || !b) continue;
    rows.push(`| ${title}: p50 at 1M within 1.5× of 10k | ×1 ${a.text}; ×2 ${b.text}${l ? `; LMDB ${l.text}` : ''} | ${mark(a.ok)} | ${mark(b.ok)} |`);
  }
  return rows;
}

function profiles(run: SizeRun, scenarios: Scenario[]): string[] {
  const out: string[] = [];
  for (const sc of scenarios) {
    const m = run.results.get(sc.id)?.get('pg1');
    if (!m?.top?.length) continue;
    const total = m.top.reduce((s, x) => s + x.totalMs, 0);
    const stmts = m.top
      .slice(0, 2)
      .map((x) => `${x.meanMs.toFixed(3)} ms × ${x.calls.toLocaleString('en-US')} \`${x.query.slice(0, 150).replace(/`/g, "'")}${x.query.length > 150 ? '…' : ''}\``)
      .join('; ');
    out.push(`- ${sc.title}: ${(m.dbMsPerRequest ?? 0).toFixed(3)} ms of PostgreSQL execution per request (${total.toFixed(0)} ms in the top statements); ${stmts}`);
  }
  return out;
}

function render(x: RenderInput): string {
  const { cluster, opts, sizes, machine } = x;
  const parts = [
    BEGIN,
    '## PostgreSQL beside LMDB',
    '',
    `Generated by \`${x.command}\` (\`bench/postgres.ts\`; see \`bench/README.md\`) on ${machine.date} in ${x.minutes.toFixed(1)} min${x.complete ? '' : ' (incomplete: a later size failed or is still running)'}; ` +
      `artifactd ${machine.commit}, ${machine.nproc} CPUs (${machine.cpu}), bun ${machine.bun}, wrk ${machine.wrk}.`,
    '',
    `PostgreSQL ${cluster.version} on 127.0.0.1, a throwaway cluster of the bench's own, **durable**: ${Object.entries(cluster.settings)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')} (fsync, full_page_writes and synchronous_commit at their defaults); pg_stat_statements on (its own cost is in the PostgreSQL figures). ` +
      `Every size seeds LMDB with \`bench/seed.ts\` and copies that store row for row into a fresh database with the server's schema (\`bench/pg-seed.ts\`), so both serve the same records. ` +
      `Three servers run side by side: artifactd on LMDB, and two artifactd instances on the PostgreSQL database (\`--database-url\`${opts.poolSize ? `, \`--database-pool-size ${opts.poolSize}\`` : ', pool of 10 each'}). ` +
      `"×1" loads one instance; "×2" loads both, wrk's thread 1 on one and thread 2 on the other (half the connections each; wrk -t2). ` +
      `Reads: ${opts.connections} connections, ${opts.duration} s after ${opts.warmup} s warm-up, ${opts.rounds}× round-robin over scenarios and targets, best round; creates once per target at the end, 64 connections, 2 threads.`,
    '',
    `- **PG CPU share**: the PostgreSQL processes' CPU time (postmaster, backends, WAL writer, checkpointer… from /proc) over that plus the loaded artifactd instances' during the measurement. **cores artifactd / PG**: the same as cores. On 2 CPUs, wrk takes most of one; artifactd and PostgreSQL share the rest.`,
    `- **PG exec ms/request**: PostgreSQL's execution time of every statement of the database (pg_stat_statements \`total_exec_time\`, planning excluded) over the requests wrk counted — the part of a request's cost spent inside PostgreSQL.`,
    '',
  ];
  for (const s of sizes) {
    parts.push(
      `### N = ${fmtN(s.n)} artifacts`,
      '',
      sizeTable(s, opts.scenarios),
      '',
      `- Seeded ${s.n.toLocaleString('en-US')} artifacts over ${s.seeded.keys.toLocaleString('en-US')} keys, ${s.seeded.flowRuns.toLocaleString('en-US')} flow runs, ${s.seeded.taskRuns.toLocaleString('en-US')} task runs: LMDB in ${s.seeded.seconds.toFixed(1)} s, ` +
        `then PostgreSQL in ${s.pg.seconds.toFixed(1)} s (multi-row INSERTs, indexes made after: ${s.pg.indexSeconds.toFixed(1)} s; database ${(s.pg.bytes / 1024 ** 2).toFixed(0)} MiB). Load average before: ${s.loadavg}.`,
      `- Peak RssAnon: LMDB artifactd ${(s.rss.lmdb / 1024).toFixed(0)} MiB, PostgreSQL artifactd A ${(s.rss.pg1 / 1024).toFixed(0)} MiB, B ${(s.rss.pg2 / 1024).toFixed(0)} MiB.`,
      `- Where PostgreSQL's time goes (×1, pg_stat_statements, the statements with most execution time):`,
      ...profiles(s, opts.scenarios).map((l) => `  ${l}`),
      '',
    );
  }
  parts.push('### Targets (issue 13), as ratios within this run', '', ...targets(sizes), '', END);
  return parts.join('\n');
}
