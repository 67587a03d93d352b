/**
 * `npm run bench -- --only logs,events`: the logs and events benchmark (issue 14) — log ingest
 * (`POST /api/logs/`, 100-record bodies, wrk), event ingest (32 websockets on `/api/events/in`,
 * ws-client.ts) and log reads (`POST /api/logs/filter` on stores of 10k and 1M lines), each beside
 * a bare Bun.serve doing the least the same traffic needs, and with `--postgres` on PostgreSQL
 * beside LMDB in the same run. Writes the logs-and-events section of bench/RESULTS.md. See
 * bench/README.md.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { positive } from '../args.ts';
import { CpuWindow, waitForQuiet } from '../cpu.ts';
import { cleanup, installExitHandlers, removeDirOnExit, track, untrack } from '../procs.ts';
import { describeMachine, fmtLatency, fmtN, NOISY } from '../report.ts';
import { readMem, startArtifactd, startCeiling, startListeningCommand, type Running } from '../server.ts';
import { ensureWrk, runWrk, writeRequests, type Req } from '../wrk.ts';
import { openStore } from '../../src/store/open.ts';
import type { BenchCluster } from '../pg-cluster.ts';
import type { RunContext } from './events-data.ts';
import { LOG_READS, seedLogs, type LogReadScenario, type LogSeeded } from './log-reads.ts';
import { ingestBodies } from './logs-data.ts';
import { render, type Cores, type IngestRun, type Measurement, type ReadSize, type Report, type Statement, type TargetId } from './report.ts';
import { BEGIN, withLogsSection } from './section.ts';
import type { WsClientConfig, WsClientResult } from './ws-client.ts';

const ROOT = resolve(import.meta.dir, '..', '..');
/** A read whose first answer takes longer than this (µs) is timed one request at a time, not with wrk. */
const SLOW_US = 250_000;
const BINARY = join(ROOT, 'dist', 'artifactd');

const USAGE = `usage: npm run bench -- --only PARTS [options]

The logs and events benchmark (issue 14). PARTS, comma-separated:
  log-ingest   POST /api/logs/ with 100-record bodies, wrk, --ingest-connections connections
  events       --sockets websockets on /api/events/in, --events each, a checkpoint every 700
  log-reads    POST /api/logs/filter shapes on stores of --sizes log lines
  logs         log-ingest and log-reads;  ingest: log-ingest and events;  all (or logs,events)

  --postgres              also PostgreSQL (a durable cluster of the bench's own), beside LMDB
  --sizes 10000,1000000   log lines in the stores the reads are measured on
  --duration 5            seconds per wrk measurement (log ingest, reads)
  --warmup 1              unrecorded seconds before each
  --rounds 2              measurements of each scenario per target, round-robin; best stands
  --connections 32        wrk connections for the reads
  --ingest-connections 32 wrk connections (clients) for the log ingest
  --batch 100             records per POST /api/logs/ body
  --sockets 32            websockets for the events
  --events 4200           events per socket per measured round (6 checkpoints)
  --checkpoint 700        events between ping/pong checkpoints (Prefect's client: 700)
  --ws-deflate on         offer permessage-deflate (Prefect's client does); off: don't
  --ws-client raw         raw: frames built (masked, compressed) before the clock starts, one
                          write per checkpoint (ingest/raw-ws.ts); bun: Bun's WebSocket client
  --pool-size N           artifactd's --database-pool-size on PostgreSQL (default artifactd's, 10)
  --cpu-prof DIR          run artifactd from source under Bun's profiler (--cpu-prof-md) and
                          write one profile per server into DIR (figures then from source)
  --out bench/RESULTS.md  where the section goes
  --quiet-wait 60         seconds to wait for a quiet machine before each phase
  --build                 rebuild dist/artifactd
  --keep                  keep the temp dirs`;

export interface Helpers {
  ensureBinary(force: boolean): Promise<void>;
  gitCommit(): Promise<string>;
}

type Part = 'log-ingest' | 'events' | 'log-reads';
const PARTS: Record<string, Part[]> = {
  'log-ingest': ['log-ingest'],
  events: ['events'],
  'log-reads': ['log-reads'],
  logs: ['log-ingest', 'log-reads'],
  ingest: ['log-ingest', 'events'],
  all: ['log-ingest', 'events', 'log-reads'],
};

export interface Options {
  parts: Part[];
  postgres: boolean;
  sizes: number[];
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  ingestConnections: number;
  batch: number;
  sockets: number;
  events: number;
  checkpoint: number;
  deflate: boolean;
  wsClient: 'raw' | 'bun';
  poolSize?: number;
  cpuProf?: string;
  out: string;
  quietWait: number;
  build: boolean;
  keep: boolean;
  /** only these read scenario ids (--reads a,b) */
  reads: LogReadScenario[];
}

export function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: 'all' },
      postgres: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '10000,1000000' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      'ingest-connections': { type: 'string', default: '32' },
      batch: { type: 'string', default: '100' },
      sockets: { type: 'string', default: '32' },
      events: { type: 'string', default: '4200' },
      checkpoint: { type: 'string', default: '700' },
      'ws-deflate': { type: 'string', default: 'on' },
      'ws-client': { type: 'string', default: 'raw' },
      'pool-size': { type: 'string' },
      'cpu-prof': { type: 'string' },
      reads: { type: 'string' },
      out: { type: 'string', default: 'bench/RESULTS.md' },
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
  const parts = new Set<Part>();
  for (const p of values.only.split(',').map((s) => s.trim()).filter(Boolean)) {
    const known = PARTS[p];
    if (!known) throw new Error(`--only: unknown part ${p}; known: ${Object.keys(PARTS).join(', ')}`);
    for (const k of known) parts.add(k);
  }
  if (!['on', 'off'].includes(values['ws-deflate'])) throw new Error('--ws-deflate is on or off');
  if (!['raw', 'bun'].includes(values['ws-client'])) throw new Error('--ws-client is raw or bun');
  const only = values.reads?.split(',').map((s) => s.trim());
  for (const id of only ?? []) if (!LOG_READS.some((s) => s.id === id)) throw new Error(`--reads: unknown ${id}; known: ${LOG_READS.map((s) => s.id).join(', ')}`);
  return {
    parts: (['log-ingest', 'events', 'log-reads'] as const).filter((p) => parts.has(p)),
    postgres: values.postgres,
    sizes: values.sizes
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => positive('sizes', s.trim().replace(/_/g, '')))
      .sort((a, b) => a - b),
    duration: positive('duration', values.duration),
    warmup: Number(values.warmup),
    rounds: positive('rounds', values.rounds),
    connections: positive('connections', values.connections),
    ingestConnections: positive('ingest-connections', values['ingest-connections']),
    batch: positive('batch', values.batch),
    sockets: positive('sockets', values.sockets),
    events: positive('events', values.events),
    checkpoint: positive('checkpoint', values.checkpoint),
    deflate: values['ws-deflate'] === 'on',
    wsClient: values['ws-client'] as 'raw' | 'bun',
    poolSize: values['pool-size'] === undefined ? undefined : positive('pool-size', values['pool-size']),
    cpuProf: values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined,
    out: resolve(ROOT, values.out),
    quietWait: Number(values['quiet-wait']),
    build: values.build,
    keep: values.keep,
    reads: LOG_READS.filter((s) => !only || only.includes(s.id)),
  };
}

// ── CPU ──────────────────────────────────────────────────────────────────────────────────────

function statFields(pid: number | 'self'): number[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return undefined;
  }
}
/** utime + stime (1/100 s) of a process. */
const ticks = (pid: number) => {
  const f = statFields(pid);
  return f ? f[11] + f[12] : 0;
};
/** This process's reaped children's utime + stime: wrk and the websocket client once they exit. */
const childTicks = () => {
  const f = statFields('self');
  return f ? f[13] + f[14] : 0;
};

/** CPU over one measurement: the measured server(s), PostgreSQL's processes, the load client, everyone else. */
class Usage {
  private readonly t0 = performance.now();
  private readonly s0: number;
  private readonly p0: number;
  private readonly c0 = childTicks();
  private readonly window: CpuWindow;

  constructor(
    private readonly measured: number[],
    allServers: number[],
    private readonly pgTicks: () => number,
  ) {
    this.s0 = this.serverTicks();
    this.p0 = pgTicks();
    this.window = new CpuWindow(allServers, pgTicks);
  }

  private serverTicks(): number {
    return this.measured.reduce((sum, pid) => sum + ticks(pid), 0);
  }

  /** `clientCores`: the client's own figure when it measured itself (the websocket client). */
  end(clientCores?: number): Cores {
    const seconds = (performance.now() - this.t0) / 1000;
    const use = this.window.end();
    return {
      server: (this.serverTicks() - this.s0) / 100 / seconds,
      pg: (this.pgTicks() - this.p0) / 100 / seconds,
      client: clientCores ?? (childTicks() - this.c0) / 100 / seconds,
      other: use.other,
      steal: use.steal,
    };
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

async function request(url: string, req: Req): Promise<{ status: number; text: string; bytes: number }> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + req.path, { method: req.method, body: req.body, headers });
  const buf = await res.arrayBuffer();
  return { status: res.status, text: new TextDecoder().decode(buf), bytes: buf.byteLength };
}

async function expectStatus(url: string, req: Req, status: number, title: string): Promise<{ text: string; bytes: number }> {
  const r = await request(url, req);
  if (r.status !== status) throw new Error(`${title}: ${req.method} ${req.path} at ${url} answered ${r.status}, expected ${status}: ${r.text.slice(0, 300)}`);
  return r;
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
const nowMicros = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);
const int = (x: number) => Math.round(x).toLocaleString('en-US');

/** A flow and one RUNNING flow run per socket, made through the API (as a client would). */
async function makeRuns(url: string, count: number): Promise<RunContext[]> {
  const flow = await request(url, { method: 'POST', path: '/api/flows/', body: JSON.stringify({ name: 'bench-ingest', tags: [] }) });
  if (flow.status !== 201 && flow.status !== 200) throw new Error(`POST /api/flows/ at ${url} answered ${flow.status}: ${flow.text.slice(0, 200)}`);
  const flowId = (JSON.parse(flow.text) as { id: string }).id;
  const runs: RunContext[] = [];
  for (let i = 0; i < count; i++) {
    const body = { flow_id: flowId, name: `ingest-run-${i}`, state: { type: 'RUNNING', name: 'Running' }, tags: ['bench'] };
    const r = await expectStatus(url, { method: 'POST', path: '/api/flow_runs/', body: JSON.stringify(body) }, 201, 'create flow run');
    const run = JSON.parse(r.text) as { id: string; name: string };
    runs.push({ flowRunId: run.id, flowRunName: run.name, flowId, flowName: 'bench-ingest' });
  }
  return runs;
}

/** Contexts for the ceiling, which stores nothing: ids that look like a server's. */
const fakeRuns = (count: number): RunContext[] =>
  Array.from({ length: count }, (_, i) => ({ flowRunId: crypto.randomUUID(), flowRunName: `ingest-run-${i}`, flowId: crypto.randomUUID(), flowName: 'bench-ingest' }));

/**
 * Runs the websocket client (ws-client.ts) in its own process; `onSending`/`onStored` are called
 * when it starts sending and when it found every event stored (or gave up), so the server's CPU
 * is measured over exactly that window.
 */
async function runWsClient(config: WsClientConfig, file: string, hooks: { onSending(): void; onStored(): void }): Promise<WsClientResult> {
  writeFileSync(file, JSON.stringify(config));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'ws-client.ts'), file], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  track(proc);
  const guard = setTimeout(() => proc.kill('SIGKILL'), 300_000);
  try {
    let result: WsClientResult | undefined;
    let fatal: string | undefined;
    const decoder = new TextDecoder();
    let buffer = '';
    const errText = new Response(proc.stderr).text();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const msg = JSON.parse(line) as { phase?: string; fatal?: string } & Partial<WsClientResult>;
        if (msg.phase === 'sending') hooks.onSending();
        else if (msg.phase === 'stored') hooks.onStored();
        else if (msg.fatal !== undefined) fatal = msg.fatal;
        else result = msg as WsClientResult;
      }
    }
    const code = await proc.exited;
    if (!result) throw new Error(`the websocket client exited ${code}${fatal ? `: ${fatal}` : ''}\n${(await errText).slice(-2000)}`);
    return result;
  } finally {
    clearTimeout(guard);
    untrack(proc);
  }
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

interface Server {
  id: TargetId;
  running: Running;
  /** the store, to count what it holds after the server stopped */
  store?: { dataDir: string; databaseUrl: string | null };
}

export async function main(argv: string[], helpers: Helpers): Promise<void> {
  installExitHandlers();
  const opts = options(argv);
  const started = performance.now();
  const command = `npm run bench -- ${argv.join(' ')}`;
  const wrk = await ensureWrk();
  if (!opts.cpuProf) await helpers.ensureBinary(opts.build);
  const work = mkdtempSync(join(tmpdir(), 'artifactd-bench-logs-work-'));
  if (!opts.keep) removeDirOnExit(work);
  const machine = describeMachine({ wrk, filesystem: tmpdir(), commit: await helpers.gitCommit() });
  console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, bun ${machine.bun}, wrk ${machine.wrk}; parts: ${opts.parts.join(', ')}`);

  let cluster: BenchCluster | undefined;
  let pgTicks = () => 0;
  if (opts.postgres) {
    const pg = await import('../pg-cluster.ts');
    console.log('starting a durable PostgreSQL cluster…');
    cluster = await pg.startBenchCluster();
    const pid = cluster.pid;
    pgTicks = () => pg.treeTicks(pid);
    console.log(`PostgreSQL ${cluster.version} at 127.0.0.1:${cluster.port} (${Object.entries(cluster.settings).map(([k, v]) => `${k}=${v}`).join(', ')})`);
  }
  const backends: TargetId[] = opts.postgres ? ['lmdb', 'pg'] : ['lmdb'];
  /** pg_stat_statements around a PostgreSQL measurement: reset, then the database's statements. */
  const statements = {
    reset: async (id: TargetId) => {
      if (id === 'pg' && cluster?.statements) await cluster.admin.unsafe('SELECT pg_stat_statements_reset()');
    },
    read: async (id: TargetId, database: string): Promise<Statement[] | undefined> => {
      if (id !== 'pg' || !cluster?.statements) return undefined;
      const rows = (await cluster.admin.unsafe(
        `SELECT s.calls, s.total_exec_time AS total, s.mean_exec_time AS mean, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 400) AS query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT 8`,
        [database],
      )) as { calls: string; total: number; mean: number; query: string }[];
      return rows.map((r) => ({ calls: Number(r.calls), totalMs: Number(r.total), meanMs: Number(r.mean), query: r.query }));
    },
  };
  const report: Report = { machine, command, opts, cluster: cluster && { version: cluster.version, settings: cluster.settings }, minutes: 0, complete: false, sizes: [] };
  const write = (complete: boolean) => {
    report.minutes = (performance.now() - started) / 60000;
    report.complete = complete;
    const text = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
    writeFileSync(opts.out, withLogsSection(text, render(report)));
  };

  let serial = 0;
  const startServer = async (id: TargetId, label: string, store: { dataDir: string; databaseUrl: string | null }): Promise<Server> => {
    const log = join(work, `${label}.log`);
    const storeArgs = store.databaseUrl ? ['--database-url', store.databaseUrl, ...(opts.poolSize ? ['--database-pool-size', String(opts.poolSize)] : [])] : ['--data-dir', store.dataDir];
    const running = opts.cpuProf
      ? await startListeningCommand(
          [process.execPath, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${opts.cpuProf}`, `--cpu-prof-name=${label}-${++serial}.cpuprofile`, join(ROOT, 'src/main.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warning', ...storeArgs],
          log,
        )
      : await startArtifactd(BINARY, store.dataDir, log, store.databaseUrl ? { databaseUrl: store.databaseUrl, extraArgs: storeArgs.slice(2) } : {});
    return { id, running, store };
  };
  const stopAll = async (servers: Server[]) => {
    for (const s of servers) {
      const code = await s.running.stop();
      if (code !== 0 && s.id !== 'ceiling') console.warn(`${s.id} server exited ${code} (expected 0 on SIGTERM); logs in ${work}`);
    }
  };
  const newStore = async (id: TargetId, name: string): Promise<{ dataDir: string; databaseUrl: string | null; drop(): Promise<void> }> => {
    if (id === 'pg') {
      const url = await cluster!.createDatabase(name);
      return { dataDir: '', databaseUrl: url, drop: async () => void (opts.keep ? undefined : await cluster!.admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)) };
    }
    const dir = mkdtempSync(join(tmpdir(), `artifactd-bench-${name}-`));
    const remove = opts.keep ? () => {} : removeDirOnExit(dir);
    return { dataDir: dir, databaseUrl: null, drop: async () => remove() };
  };

  try {
    if (opts.parts.includes('log-ingest') || opts.parts.includes('events')) {
      report.ingest = await ingestPhase();
      write(false);
    }
    if (opts.parts.includes('log-reads')) {
      for (const n of opts.sizes) {
        report.sizes.push(await readPhase(n));
        write(false);
      }
    }
  } finally {
    cluster?.stop();
  }
  write(true);
  const text = readFileSync(opts.out, 'utf8');
  console.log(`\n${text.slice(text.indexOf(BEGIN))}`);
  console.log(`wrote the logs-and-events section of ${relative(process.cwd(), opts.out) || opts.out} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  if (opts.keep) console.log(`kept: ${work}`);

  // ── ingest: logs and events into fresh stores ─────────────────────────────────────────────
  async function ingestPhase(): Promise<IngestRun> {
    console.log('\n── ingest ──');
    const stores = new Map<TargetId, Awaited<ReturnType<typeof newStore>>>();
    const servers: Server[] = [];
    for (const id of backends) {
      const store = await newStore(id, 'ingest');
      stores.set(id, store);
      servers.push(await startServer(id, `ingest-${id}`, store));
    }
    const contexts = new Map<TargetId, RunContext[]>();
    for (const s of servers) contexts.set(s.id, await makeRuns(s.running.url, opts.sockets));
    // The ceiling negotiates what artifactd negotiated (permessage-deflate or not), found by a first look.
    let ceilingDeflate = opts.deflate;
    if (opts.parts.includes('events')) {
      const probe = new WebSocket(`${servers[0].running.url.replace('http', 'ws')}/api/events/in`, { perMessageDeflate: opts.deflate });
      ceilingDeflate = await new Promise<boolean>((res, rej) => {
        probe.addEventListener('open', () => res(probe.extensions.includes('permessage-deflate')), { once: true });
        probe.addEventListener('error', () => rej(new Error(`cannot open ${probe.url}: is /api/events/in served?`)), { once: true });
      });
      probe.close(1000);
    }
    const ceiling: Server = {
      id: 'ceiling',
      running: await startListeningCommand([process.execPath, join(import.meta.dir, 'ceiling.ts'), ...(ceilingDeflate ? ['--deflate'] : [])], join(work, 'ingest-ceiling.log')),
    };
    contexts.set('ceiling', fakeRuns(opts.sockets));
    const targets = [ceiling, ...servers];
    const allPids = targets.map((t) => t.running.proc.pid);
    const run: IngestRun = { logs: new Map(), events: new Map(), verify: new Map(), loadavg: loadavg(), rss: new Map(), deflate: ceilingDeflate };
    const acked = new Map<TargetId, number>();
    const sent = new Map<TargetId, number>();
    const notBefore = new Map<TargetId, number>();
    const keep = (into: Map<TargetId, Measurement>, m: Measurement) => {
      const prev = into.get(m.target);
      into.set(m.target, prev ? { ...(m.rate > prev.rate ? m : prev), rounds: [...prev.rounds, m.rate] } : m);
    };
    let remeasures = 0;
    const quiet = async () => {
      if (opts.quietWait > 0) await waitForQuiet(allPids, Math.min(30, opts.quietWait), 0.1, pgTicks);
    };

    const logIngest = async (t: Server, round: string): Promise<Measurement> => {
      const bodies = ingestBodies(64, opts.batch, contexts.get(t.id)!.map((c) => c.flowRunId), nowMicros());
      const reqs: Req[] = bodies.map((body) => ({ method: 'POST', path: '/api/logs/', body }));
      const file = join(work, `logs-ingest-${t.id}.tsv`);
      writeRequests(file, reqs);
      await expectStatus(t.running.url, reqs[0], 201, 'POST /api/logs/');
      let ok = 1;
      const load = { url: t.running.url, requestFile: file, connections: opts.ingestConnections, threads: 1 };
      if (opts.warmup > 0) {
        const w = await runWrk({ ...load, seconds: opts.warmup });
        ok += w.requests - w.non2xx;
      }
      await settle(t.running.url);
      await statements.reset(t.id);
      const usage = new Usage([t.running.proc.pid], allPids, t.id === 'pg' ? pgTicks : () => 0);
      const r = await runWrk({ ...load, seconds: opts.duration });
      const cores = usage.end();
      const stmts = await statements.read(t.id, 'ingest');
      ok += r.requests - r.non2xx;
      acked.set(t.id, (acked.get(t.id) ?? 0) + ok * opts.batch);
      await settle(t.running.url);
      const m: Measurement = {
        target: t.id,
        rate: ((r.requests - r.non2xx) / r.seconds) * opts.batch,
        rps: r.rps,
        p50: r.p50,
        p99: r.p99,
        requests: r.requests,
        non2xx: r.non2xx,
        socketErrors: r.socketErrors,
        cores,
        rounds: [((r.requests - r.non2xx) / r.seconds) * opts.batch],
        statements: stmts,
      };
      console.log(
        `  ${round} log ingest   ${t.id.padEnd(7)} ${int(m.rate).padStart(9)} records/s (${int(r.rps)} req/s)  p50 ${fmtLatency(r.p50).padStart(9)}  p99 ${fmtLatency(r.p99).padStart(9)}  ` +
          `cores server ${cores.server.toFixed(2)} pg ${cores.pg.toFixed(2)} wrk ${cores.client.toFixed(2)} other ${cores.other.toFixed(2)}` +
          (r.non2xx + r.socketErrors ? `  ⚠ ${r.non2xx} non-2xx, ${r.socketErrors} socket errors` : ''),
      );
      return m;
    };

    const eventIngest = async (t: Server, round: string): Promise<Measurement> => {
      const wsUrl = `${t.running.url.replace('http', 'ws')}/api/events/in`;
      const base: Omit<WsClientConfig, 'perSocket' | 'notBefore' | 'seed'> = {
        wsUrl,
        httpUrl: t.running.url,
        sockets: opts.sockets,
        checkpoint: opts.checkpoint,
        runs: contexts.get(t.id)!,
        deflate: opts.deflate,
        client: opts.wsClient,
        storedTimeoutSeconds: 120,
      };
      const file = join(work, `ws-${t.id}.json`);
      const noHooks = { onSending() {}, onStored() {} };
      // Warm-up: one checkpoint's worth per socket.
      const w = await runWsClient({ ...base, perSocket: opts.checkpoint, notBefore: notBefore.get(t.id) ?? 0, seed: 1 }, file, noHooks);
      sent.set(t.id, (sent.get(t.id) ?? 0) + w.sent);
      notBefore.set(t.id, w.until + 1);
      if (w.errors.length) console.log(`     warm-up: ${w.errors.join('; ')}`);
      await settle(t.running.url);
      await statements.reset(t.id);
      let usage: Usage | undefined;
      let cores: Cores | undefined;
      const r = await runWsClient({ ...base, perSocket: opts.events, notBefore: notBefore.get(t.id)!, seed: 2 + serial++ }, file, {
        onSending: () => (usage = new Usage([t.running.proc.pid], allPids, t.id === 'pg' ? pgTicks : () => 0)),
        onStored: () => (cores = usage?.end()),
      });
      const stmts = await statements.read(t.id, 'ingest');
      sent.set(t.id, (sent.get(t.id) ?? 0) + r.sent);
      notBefore.set(t.id, r.until + 1);
      await settle(t.running.url);
      const c = cores ? { ...cores, client: r.clientCores } : { server: 0, pg: 0, client: r.clientCores, other: 0, steal: 0 };
      const storedRate = r.storedMs !== undefined ? r.sent / (r.storedMs / 1000) : 0;
      const m: Measurement = {
        target: t.id,
        rate: storedRate,
        rps: r.sent / (r.pongMs / 1000),
        p50: r.checkpointP50Ms * 1000,
        p99: r.checkpointP99Ms * 1000,
        requests: r.sent,
        non2xx: 0,
        socketErrors: r.errors.length,
        cores: c,
        rounds: [storedRate],
        events: { sent: r.sent, stored: r.stored, pongMs: r.pongMs, storedMs: r.storedMs, extensions: r.extensions, errors: r.errors, bytes: r.bytes },
        statements: stmts,
      };
      console.log(
        `  ${round} events       ${t.id.padEnd(7)} ${int(storedRate).padStart(9)} events/s stored (${int(m.rps)}/s to the last pong; ${int(r.stored)} of ${int(r.sent)} stored in ${r.storedMs === undefined ? '—' : `${(r.storedMs / 1000).toFixed(2)} s`})  ` +
          `checkpoint p50 ${r.checkpointP50Ms.toFixed(1)} ms p99 ${r.checkpointP99Ms.toFixed(1)} ms  cores server ${c.server.toFixed(2)} pg ${c.pg.toFixed(2)} client ${c.client.toFixed(2)} other ${c.other.toFixed(2)}` +
          (r.errors.length ? `  ⚠ ${r.errors.join('; ')}` : ''),
      );
      return m;
    };

    try {
      await quiet();
      for (let round = 1; round <= opts.rounds; round++) {
        for (const [part, fn, into] of [
          ['log-ingest', logIngest, run.logs],
          ['events', eventIngest, run.events],
        ] as const) {
          if (!opts.parts.includes(part)) continue;
          for (const t of targets) {
            let m = await fn(t, `r${round}`);
            if (m.cores.other > NOISY && remeasures < 6 && opts.quietWait > 0) {
              remeasures++;
              console.log(`     other processes took ${m.cores.other.toFixed(2)} cores: measuring again once the machine is quiet`);
              keep(into, m);
              await quiet();
              m = await fn(t, `r${round}'`);
            }
            keep(into, m);
            const mem = readMem(t.running.proc.pid);
            if (mem) run.rss.set(t.id, Math.max(run.rss.get(t.id) ?? 0, mem.rssAnon));
          }
        }
      }
    } finally {
      await stopAll([ceiling, ...servers]);
    }
    // What the stores hold: every acknowledged log line and every event sent must be there.
    for (const s of servers) {
      const store = await openStore({ dataDir: s.store!.dataDir, databaseUrl: s.store!.databaseUrl });
      try {
        const counts = await store.counts();
        run.verify.set(s.id, { logsAcked: acked.get(s.id) ?? 0, logs: counts.logs, eventsSent: sent.get(s.id) ?? 0, events: counts.events });
        console.log(`  ${s.id}: the store holds ${int(counts.logs)} log lines (${int(acked.get(s.id) ?? 0)} acknowledged) and ${int(counts.events)} events (${int(sent.get(s.id) ?? 0)} sent)`);
      } finally {
        await store.close();
      }
      await stores.get(s.id)!.drop();
    }
    return run;
  }

  // ── log reads on a store of n lines ───────────────────────────────────────────────────────
  async function readPhase(n: number): Promise<ReadSize> {
    console.log(`\n── log reads, N = ${fmtN(n)} ──`);
    const end = nowMicros();
    const seeded = new Map<TargetId, LogSeeded>();
    const stores = new Map<TargetId, Awaited<ReturnType<typeof newStore>>>();
    for (const id of backends) {
      const store = await newStore(id, `logs_${n}`);
      stores.set(id, store);
      console.log(`seeding ${int(n)} log lines into ${id === 'pg' ? store.databaseUrl : store.dataDir}`);
      const s = await seedLogs(store, n, end);
      console.log(`  ${id}: seeded in ${s.seconds.toFixed(1)} s (${int(s.rate)} lines/s); hot run ${int(s.hotLines)} lines, ${int(s.runs.length)} other runs`);
      seeded.set(id, s);
    }
    const layout = seeded.get('lmdb')!;
    const servers: Server[] = [];
    for (const id of backends) servers.push(await startServer(id, `logs-${n}-${id}`, stores.get(id)!));
    const ceiling: Server = { id: 'ceiling', running: await startCeiling(join(work, `ceiling-${n}.log`)) };
    const allPids = [ceiling, ...servers].map((t) => t.running.proc.pid);
    const size: ReadSize = { n, seeded, results: new Map(), loadavg: loadavg(), rss: new Map() };
    let remeasures = 0;
    const quiet = async () => {
      if (opts.quietWait > 0) await waitForQuiet(allPids, Math.min(30, opts.quietWait), 0.1, pgTicks);
    };
    const measure = async (id: string, title: string, reqs: Req[], t: Server, round: string): Promise<Measurement> => {
      const file = join(work, `${id}-${n}.tsv`);
      writeRequests(file, reqs);
      const t0 = performance.now();
      const first = await request(t.running.url, reqs[0]);
      const firstUs = (performance.now() - t0) * 1000;
      const zero = { server: 0, pg: 0, client: 0, other: 0, steal: 0 };
      if (first.status !== 200) {
        // The query deadline (503) or a refusal: reported as such, not loaded.
        const failed = `${first.status} after ${fmtLatency(firstUs)}: ${first.text.slice(0, 120)}`;
        console.log(`  ${round} ${title.slice(0, 60).padEnd(60)} ${t.id.padEnd(7)} ⚠ ${failed}`);
        return { target: t.id, rate: 0, rps: 0, p50: firstUs, p99: firstUs, requests: 1, non2xx: 1, socketErrors: 0, cores: zero, rounds: [0], failed, bytes: first.bytes };
      }
      const rows = t.id === 'ceiling' ? undefined : (JSON.parse(first.text) as unknown[]).length;
      let m: Measurement;
      if (firstUs > SLOW_US) {
        // Too slow for 32 connections within wrk's timeout: timed one request at a time (bounded: 3).
        const usage = new Usage([t.running.proc.pid], allPids, t.id === 'pg' ? pgTicks : () => 0);
        const times: number[] = [];
        for (let k = 0; k < 3; k++) {
          const s0 = performance.now();
          const r = await request(t.running.url, reqs[k % reqs.length]);
          times.push((performance.now() - s0) * 1000);
          if (r.status !== 200) break;
        }
        const cores = usage.end();
        times.sort((a, b) => a - b);
        const p50 = times[Math.floor(times.length / 2)];
        m = { target: t.id, rate: 1e6 / p50, rps: 1e6 / p50, p50, p99: times[times.length - 1], requests: times.length, non2xx: 0, socketErrors: 0, cores, rounds: [1e6 / p50], rows, bytes: first.bytes, sequential: true };
      } else {
        const load = { url: t.running.url, requestFile: file, connections: opts.connections, threads: 1 };
        if (opts.warmup > 0) await runWrk({ ...load, seconds: opts.warmup });
        await settle(t.running.url);
        const usage = new Usage([t.running.proc.pid], allPids, t.id === 'pg' ? pgTicks : () => 0);
        const r = await runWrk({ ...load, seconds: opts.duration });
        const cores = usage.end();
        m = { target: t.id, rate: r.rps, rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, non2xx: r.non2xx, socketErrors: r.socketErrors, cores, rounds: [r.rps], rows, bytes: first.bytes };
      }
      await settle(t.running.url);
      const mem = readMem(t.running.proc.pid);
      if (mem && t.id !== 'ceiling') size.rss.set(t.id, Math.max(size.rss.get(t.id) ?? 0, mem.rssAnon));
      console.log(
        `  ${round} ${title.slice(0, 60).padEnd(60)} ${t.id.padEnd(7)} ${int(m.rps).padStart(7)} req/s  p50 ${fmtLatency(m.p50).padStart(9)}  p99 ${fmtLatency(m.p99).padStart(9)}  ` +
          `${rows === undefined ? '' : `${rows} rows  `}${m.sequential ? '(one at a time) ' : ''}cores server ${m.cores.server.toFixed(2)} pg ${m.cores.pg.toFixed(2)} other ${m.cores.other.toFixed(2)}` +
          (m.non2xx + m.socketErrors ? `  ⚠ ${m.non2xx} non-2xx, ${m.socketErrors} socket errors` : ''),
      );
      return m;
    };
    const keep = (id: string, m: Measurement) => {
      const byTarget = size.results.get(id) ?? new Map<TargetId, Measurement>();
      size.results.set(id, byTarget);
      const prev = byTarget.get(m.target);
      byTarget.set(m.target, prev ? { ...(m.rate > prev.rate || prev.failed ? m : prev), rounds: [...prev.rounds, m.rate], non2xx: prev.non2xx + m.non2xx, socketErrors: prev.socketErrors + m.socketErrors } : m);
    };
    try {
      await quiet();
      for (let round = 1; round <= opts.rounds; round++) {
        keep('ceiling', await measure('ceiling', 'ceiling: bare Bun.serve, fixed JSON', [{ method: 'GET', path: '/' }], ceiling, `r${round}`));
        for (const sc of opts.reads) {
          for (const t of servers) {
            let m = await measure(sc.id, sc.title, sc.requests(seeded.get(t.id) ?? layout), t, `r${round}`);
            if (m.cores.other > NOISY && remeasures < 8 && opts.quietWait > 0) {
              remeasures++;
              console.log(`     other processes took ${m.cores.other.toFixed(2)} cores: measuring again once the machine is quiet`);
              keep(sc.id, m);
              await quiet();
              m = await measure(sc.id, sc.title, sc.requests(seeded.get(t.id) ?? layout), t, `r${round}'`);
            }
            keep(sc.id, m);
          }
        }
      }
    } finally {
      await stopAll([ceiling, ...servers]);
    }
    for (const s of stores.values()) await s.drop();
    return size;
  }
}

export async function runMain(argv: string[], helpers: Helpers): Promise<void> {
  try {
    await main(argv, helpers);
  } catch (error) {
    console.error(`bench --only: ${(error as Error).stack ?? (error as Error).message}`);
    cleanup();
    process.exit(1);
  }
  cleanup();
}
