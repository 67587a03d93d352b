#!/usr/bin/env bun
/**
 * Crash-safety harness: proves that an acknowledged write survives SIGKILL.
 *
 *   npm run crash                                  # 5 cycles against dist/artifactd (npm run build first)
 *   npm run crash -- --cycles 50 --seed 42         # more cycles, reproducible random choices
 *   bun scripts/crash.ts --source --cycles 3       # against `bun src/main.ts` (no build needed)
 *   npm run crash -- --database-url postgresql://u:p@127.0.0.1/empty_db   # the PostgreSQL backend
 *   npm run crash -- --postgres                    # the same on a throwaway cluster (CI)
 *
 * Flags: --cycles N (5), --binary PATH (dist/artifactd), --source, --writers N (16), --seed N
 * (random, printed), --keep (leave the data dir), --json (a JSON summary as the last line),
 * --database-url URL (an empty PostgreSQL database instead of the LMDB data dir; it is left as
 * the run leaves it), --postgres (a throwaway PostgreSQL cluster started with this machine's
 * initdb, as the tests start one — test/postgres/cluster.ts — and removed at the end).
 *
 * One store (data dir or database) is kept across all cycles. Each cycle:
 *   1. starts `artifactd serve --host 127.0.0.1 --port <free> --data-dir DIR` (or
 *      `--database-url URL`) and waits for GET /api/health; the store must hold exactly what the
 *      previous cycle left (on the first cycle: nothing);
 *   2. runs concurrent writer loops: creates (keys k0..k7 or none, `data` carrying a unique
 *      token), PATCHes of `data` and DELETEs of artifacts whose create is acknowledged. One
 *      operation per artifact at a time, so the expected state of each artifact is exact;
 *   3. after a random 50–600 ms of load, SIGKILLs the server; writers see their requests fail
 *      and stop. A request answered 2xx is *acknowledged*; one that got no answer is *in flight*
 *      (outcome unknown: either applied or not, nothing else);
 *   4. restarts the server on the same dir and verifies: every acknowledged create not deleted
 *      reads back (GET 200) with the data of its last acknowledged write (or, if a PATCH was in
 *      flight, the old or the new data); every acknowledged delete answers 404; a full scan of
 *      POST /api/artifacts/filter holds exactly the known artifacts plus in-flight creates that
 *      were applied (adopted from then on), and agrees with /count; for every key,
 *      GET /{key}/latest and /latest/filter name the newest remaining version as
 *      POST /filter CREATED_DESC limit 1 sees it (and the scan agrees); `artifactd check --json`
 *      (a second process on the live store; `--database-url` with PostgreSQL) reports ok with the
 *      same artifact count;
 *   5. stops the server with SIGTERM and requires exit status 0.
 *
 * An acknowledged write is *found* when the store shows its effect, or the effect of a later
 * acknowledged (or applied in-flight) write to the same artifact that supersedes it (a PATCH
 * over older data, a DELETE over the create). Any violation is printed; the run stops after the
 * cycle that found it (later cycles would build on a wrong model), keeps the data dir for
 * inspection and exits 1. Exit 0 when every cycle is clean; 2 for usage errors.
 *
 * Everything listens on 127.0.0.1; every wait and loop is bounded. The core, `crashCycles`, is
 * also run by test/e2e/crash.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Subprocess } from 'bun';

const ROOT = resolve(import.meta.dir, '..');
export const DEFAULT_BINARY = join(ROOT, 'dist', 'artifactd');
const MAIN = join(ROOT, 'src', 'main.ts');

/** How to run `artifactd` from the source: this Bun on src/main.ts. */
export const sourceCommand = (): string[] => [process.execPath, MAIN];

/** Keys the writers share (plus keyless artifacts), so versions of one key race each other. */
export const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`);

const HEALTH_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const CHECK_TIMEOUT_MS = 30_000;
/** Writers stop this long after the kill was due even if nothing else stopped them. */
const WRITER_GRACE_MS = 15_000;
const PAGE = 200;
const MAX_PAGES = 10_000;
const VERIFY_CONCURRENCY = 16;
const MAX_PRINTED_VIOLATIONS = 100;

export interface CrashOptions {
  cycles: number;
  /** The argv prefix that runs artifactd: `[DEFAULT_BINARY]` or `sourceCommand()`. */
  command: string[];
  /** Concurrent writer loops (default 16). */
  writers?: number;
  /** Seeds every random choice (ops, keys, payloads, kill moments). */
  seed: number;
  /** Range of the load time before the kill, in ms (default [50, 600]; [300, 1500] on PostgreSQL). */
  killAfterMs?: [number, number];
  /** Leave the data dir in place at the end (default false). */
  keep?: boolean;
  /** Leave the data dir in place when a violation was found (default true). */
  keepOnFailure?: boolean;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** Test hook: runs after the kill and before the restart (e.g. to simulate losing the store). */
  beforeRestart?: (dataDir: string, cycle: number) => void | Promise<void>;
  /**
   * A PostgreSQL database (empty at the start) to run against instead of an LMDB data dir:
   * `serve` and `check` get `--database-url`. The database is left as the run leaves it.
   */
  databaseUrl?: string;
}

export interface CycleReport {
  cycle: number;
  createsAcknowledged: number;
  createsFound: number;
  patchesAcknowledged: number;
  patchesFound: number;
  deletesAcknowledged: number;
  deletesGone: number;
  /** Requests without an answer at the kill. */
  inFlight: number;
  /** In-flight requests whose effect is visible after the restart. */
  inFlightApplied: number;
  checkOk: boolean;
  killedAfterMs: number;
  /** Artifacts in the store after the cycle. */
  artifacts: number;
  durationMs: number;
  violations: string[];
}

export interface Summary {
  ok: boolean;
  seed: number;
  /** Cycles run (fewer than asked when one found a violation). */
  cycles: number;
  writers: number;
  writesAcknowledged: number;
  writesFound: number;
  writesLost: number;
  createsAcknowledged: number;
  patchesAcknowledged: number;
  deletesAcknowledged: number;
  inFlight: number;
  inFlightApplied: number;
  violations: string[];
  dataDir: string;
  kept: boolean;
  elapsedMs: number;
  cycleReports: CycleReport[];
}

// ── seeded randomness ────────────────────────────────────────────────────────────────────────

/** mulberry32: a small, fast 32-bit PRNG; enough to replay every random choice from a seed. */
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

// ── processes ────────────────────────────────────────────────────────────────────────────────

/** Children still running, so an interrupted run can kill them (by pid). */
const children = new Set<Subprocess>();

/** SIGKILLs every child this module started and has not seen exit. */
export function killChildren(): void {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

/** The environment without settings that would change the server under test (auth, CSRF, ...). */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(PREFECT_|ARTIFACTD_)/.test(name)) env[name] = value;
  }
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves to `value` after `ms` unless `promise` settles first. */
function within<T, U>(promise: Promise<T>, ms: number, value: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<U>((r) => (timer = setTimeout(() => r(value), ms)))]).finally(() => clearTimeout(timer));
}

export class ServerProcess {
  output = '';
  exitCode: number | null = null;
  /** Set when the harness itself stops or kills the server. */
  expectedExit = false;
  readonly exited: Promise<number>;

  constructor(
    readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>,
    readonly base: string,
  ) {
    children.add(proc);
    this.exited = proc.exited.then((code) => {
      children.delete(proc);
      this.exitCode = code;
      return code;
    });
    void this.drain(proc.stdout);
    void this.drain(proc.stderr);
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) this.output = (this.output + decoder.decode(chunk, { stream: true })).slice(-8000);
    } catch {
      // the process died; what was read is kept
    }
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  async waitHealthy(): Promise<boolean> {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline && this.running) {
      try {
        const reply = await fetch(`${this.base}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (reply.status === 200 && (await reply.json()) === true) return true;
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    return false;
  }

  async kill(): Promise<void> {
    this.expectedExit = true;
    try {
      process.kill(this.proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
  }

  /** SIGTERM; resolves to the exit status, or null when it did not exit in time (then SIGKILLed). */
  async stop(): Promise<number | null> {
    this.expectedExit = true;
    if (!this.running) return this.exitCode;
    process.kill(this.proc.pid, 'SIGTERM');
    const code = await within(this.exited, STOP_TIMEOUT_MS, null);
    if (code === null) await this.kill();
    return code;
  }
}

/** Where the server keeps its store: `--data-dir DIR` or `--database-url URL`. */
export type StoreArgs = string[];

/**
 * Starts `artifactd serve` on a free loopback port with `storeArgs` (and `extra` flags) and waits
 * for GET /api/health; its output is drained (the last 8 kB kept in `output`) so that a chatty
 * server never blocks on a full pipe.
 */
export async function startServer(command: string[], cwd: string, storeArgs: StoreArgs, extra: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn([...command, 'serve', '--host', '127.0.0.1', '--port', String(port), ...storeArgs, ...extra], {
      cwd,
      env: { ...childEnv(), ...env },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const server = new ServerProcess(proc, `http://127.0.0.1:${port}`);
    if (await server.waitHealthy()) return server;
    const running = server.running;
    await server.kill();
    // Another process may have taken the free port between the probe and the bind.
    if (!running && /address already in use/i.test(server.output) && attempt < 5) continue;
    throw new Error(
      `server did not answer GET /api/health ${running ? `within ${HEALTH_TIMEOUT_MS} ms` : `(exited with status ${server.exitCode})`}; ` +
        `output:\n${server.output.trim()}`,
    );
  }
}

/** `artifactd check STOREARGS --json`, killed after 30 s. */
export async function runCheck(command: string[], cwd: string, storeArgs: StoreArgs): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([...command, 'check', ...storeArgs, '--json'], { cwd, env: childEnv(), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  children.add(proc);
  const timer = setTimeout(() => {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, CHECK_TIMEOUT_MS);
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  children.delete(proc);
  return { status: proc.signalCode ? null : status, stdout, stderr };
}

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

type Outcome = { answered: true; status: number; body: any } | { answered: false; error: string };

async function call(base: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  try {
    const reply = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // The answer counts only once it is complete: a create is acknowledged with its id.
    const text = await reply.text();
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { answered: true, status: reply.status, body: parsed };
  } catch (error) {
    return { answered: false, error: (error as Error).message ?? String(error) };
  }
}

const describe = (o: Outcome) => (o.answered ? `HTTP ${o.status} ${JSON.stringify(o.body)?.slice(0, 200)}` : `no answer (${o.error})`);
const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** `created` as printed (UTC, `Z`, 0 or 6 fraction digits) → µs, for ordering. */
function micros(created: string): number {
  const match = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(created);
  if (!match) return Number.NaN;
  return Date.parse(`${match[1]}Z`) * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
}

// ── the model ────────────────────────────────────────────────────────────────────────────────

/** An artifact whose create was acknowledged (or whose in-flight create was seen applied). */
interface Tracked {
  id: string;
  key: string | null;
  /** `data` as of the last acknowledged write. */
  data: unknown;
  /** The write in flight at the kill, if any. */
  pending?: { kind: 'patch'; data: unknown } | { kind: 'delete' };
  /** Acknowledged this cycle: its create, its patches. */
  createdThisCycle: boolean;
  patchesThisCycle: number;
}

const tokenOf = (data: unknown): string | undefined =>
  typeof data === 'string' ? data : typeof data === 'object' && data !== null ? ((data as { token?: string }).token ?? undefined) : undefined;

// ── the harness ──────────────────────────────────────────────────────────────────────────────

export async function crashCycles(options: CrashOptions): Promise<Summary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const writers = options.writers ?? 16;
  // PostgreSQL's first requests open the pool's connections: a longer window, so that a cycle
  // carries a fair number of acknowledged writes.
  const [killMin, killMax] = options.killAfterMs ?? (options.databaseUrl === undefined ? [50, 600] : [300, 1500]);
  const rng = prng(options.seed);
  const int = (below: number) => Math.floor(rng() * below);
  const started = performance.now();

  const work = mkdtempSync(join(tmpdir(), 'artifactd-crash-'));
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const storeArgs: StoreArgs = options.databaseUrl === undefined ? ['--data-dir', dataDir] : ['--database-url', options.databaseUrl];

  /** Known artifacts by id, and those among them with no operation in flight (pickable). */
  const live = new Map<string, Tracked>();
  let idle: Tracked[] = [];
  const reports: CycleReport[] = [];
  const violations: string[] = [];
  const totals = { acknowledged: 0, found: 0, lost: 0, creates: 0, patches: 0, deletes: 0, inFlight: 0, inFlightApplied: 0 };
  let server: ServerProcess | undefined;

  const takeIdle = (): Tracked | undefined => {
    if (idle.length === 0) return undefined;
    const i = int(idle.length);
    const picked = idle[i];
    idle[i] = idle[idle.length - 1];
    idle.pop();
    return picked;
  };

  const payload = (token: string): unknown => {
    const r = rng();
    if (r < 0.6) return token;
    if (r < 0.9) return { token, n: int(1_000_000), list: [int(10), 'x', null] };
    return { token, pad: 'p'.repeat(1000 + int(30_000)) }; // larger records: overflow pages
  };

  try {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const cycleStarted = performance.now();
      const found: string[] = [];
      const v = (message: string) => found.push(`cycle ${cycle}: ${message}`);
      const report: CycleReport = {
        cycle,
        createsAcknowledged: 0,
        createsFound: 0,
        patchesAcknowledged: 0,
        patchesFound: 0,
        deletesAcknowledged: 0,
        deletesGone: 0,
        inFlight: 0,
        inFlightApplied: 0,
        checkOk: false,
        killedAfterMs: 0,
        artifacts: 0,
        durationMs: 0,
        violations: found,
      };
      for (const t of live.values()) {
        t.createdThisCycle = false;
        t.patchesThisCycle = 0;
      }
      idle = [...live.values()];

      // 1. start; the store holds exactly what the previous cycle verified and left.
      server = await startServer(options.command, work, storeArgs);
      const before = await call(server.base, 'POST', '/api/artifacts/count', {});
      if (!before.answered || before.status !== 200 || before.body !== live.size) {
        const hint = cycle === 1 && options.databaseUrl !== undefined ? ' (give an empty database)' : '';
        v(`${cycle === 1 ? 'at the start' : 'after a clean restart'} POST /api/artifacts/count gave ${describe(before)}, expected ${live.size}${hint}`);
      }

      // 2. load.
      let killed = false;
      const killAfter = killMin + int(killMax - killMin + 1);
      const hardStop = Date.now() + killAfter + WRITER_GRACE_MS;
      const deletedThisCycle = new Map<string, Tracked>();
      const inFlightCreates = new Map<string, { key: string | null; data: unknown }>();
      const base = server.base;
      const loaded = server;

      const writer = async (w: number) => {
        for (let n = 0; !killed && Date.now() < hardStop; n++) {
          const size = live.size;
          const createShare = size < 150 ? 0.55 : size < 400 ? 0.4 : 0.2; // keeps the store a few hundred strong
          const r = rng();
          const target = r < createShare ? undefined : takeIdle();
          let outcome: Outcome;
          if (target === undefined) {
            const key = rng() < 0.15 ? null : KEYS[int(KEYS.length)];
            const token = `c${cycle}-w${w}-${n}-${int(1e9)}`;
            const data = payload(token);
            outcome = await call(base, 'POST', '/api/artifacts/', { key, type: 'markdown', data });
            if (outcome.answered && outcome.status === 201 && typeof outcome.body?.id === 'string') {
              const created: Tracked = { id: outcome.body.id, key, data, createdThisCycle: true, patchesThisCycle: 0 };
              if (live.has(created.id) || deletedThisCycle.has(created.id)) v(`create returned an id already used: ${created.id}`);
              if (outcome.body.key !== key || !Bun.deepEquals(outcome.body.data, data)) v(`create of ${token} answered ${describe(outcome)}`);
              live.set(created.id, created);
              idle.push(created);
              report.createsAcknowledged++;
              continue;
            }
            if (!outcome.answered) inFlightCreates.set(token, { key, data });
          } else if (r < createShare + (1 - createShare) * 0.45) {
            const data = payload(`p${cycle}-w${w}-${n}-${int(1e9)}`);
            outcome = await call(base, 'PATCH', `/api/artifacts/${target.id}`, { data });
            if (outcome.answered && outcome.status === 204) {
              target.data = data;
              target.patchesThisCycle++;
              idle.push(target);
              report.patchesAcknowledged++;
              continue;
            }
            if (!outcome.answered) target.pending = { kind: 'patch', data };
            else idle.push(target);
          } else {
            outcome = await call(base, 'DELETE', `/api/artifacts/${target.id}`);
            if (outcome.answered && outcome.status === 204) {
              live.delete(target.id);
              deletedThisCycle.set(target.id, target);
              report.deletesAcknowledged++;
              continue;
            }
            if (!outcome.answered) target.pending = { kind: 'delete' };
            else idle.push(target);
          }
          // No 2xx: in flight at the kill, or a wrong answer from a live server.
          if (outcome.answered) v(`writer ${w}: unexpected answer ${describe(outcome)}`);
          else {
            report.inFlight++;
            if (!killed) v(`writer ${w}: request failed before the kill: ${outcome.error}`);
          }
          return;
        }
      };

      const loadStarted = performance.now();
      const running = Array.from({ length: writers }, (_, w) => writer(w));
      const died = loaded.exited.then(() => {
        if (!loaded.expectedExit) v(`server exited on its own with status ${loaded.exitCode}:\n${loaded.output.trim()}`);
      });
      await within(died, killAfter, undefined);

      // 3. kill.
      killed = true;
      report.killedAfterMs = Math.round(performance.now() - loadStarted);
      await loaded.kill();
      await Promise.all(running);
      if (loaded.exitCode !== 137 && loaded.proc.signalCode !== 'SIGKILL') v(`server was not killed by SIGKILL (status ${loaded.exitCode})`);
      server = undefined;

      // 4. restart and verify.
      await options.beforeRestart?.(dataDir, cycle);
      server = await startServer(options.command, work, storeArgs);
      const verifying = server.base;
      const get = (path: string) => call(verifying, 'GET', path);
      const post = (path: string, body: unknown) => call(verifying, 'POST', path, body);
      const acknowledgedWrites = (t: Tracked) => (t.createdThisCycle ? 1 : 0) + t.patchesThisCycle;
      const tally = (t: Tracked, ok: boolean, extra = 0) => {
        const writes = acknowledgedWrites(t) + extra;
        if (ok) {
          report.createsFound += t.createdThisCycle ? 1 : 0;
          report.patchesFound += t.patchesThisCycle;
          totals.found += writes;
        } else totals.lost += Math.max(writes, 1);
      };

      // 4a. every known artifact reads back with its last acknowledged data.
      const known = [...live.values()];
      const readable = new Set<string>();
      for (let i = 0; i < known.length; i += VERIFY_CONCURRENCY) {
        const batch = known.slice(i, i + VERIFY_CONCURRENCY);
        const replies = await Promise.all(batch.map((t) => get(`/api/artifacts/${t.id}`)));
        batch.forEach((t, j) => {
          const reply = replies[j];
          const label = `artifact ${t.id} (key ${t.key}, ${t.createdThisCycle ? 'created this cycle' : 'created earlier'})`;
          const pending = t.pending;
          t.pending = undefined;
          if (reply.answered && reply.status === 200) {
            readable.add(t.id);
            const data = reply.body.data;
            if (reply.body.key !== t.key) v(`${label}: key ${show(reply.body.key)}, expected ${show(t.key)}`);
            if (Bun.deepEquals(data, t.data)) tally(t, true);
            else if (pending?.kind === 'patch' && Bun.deepEquals(data, pending.data)) {
              t.data = pending.data;
              report.inFlightApplied++;
              tally(t, true);
            } else {
              v(`${label}: data ${show(data)}, expected the last acknowledged ${show(t.data)}${pending?.kind === 'patch' ? ` or the in-flight ${show(pending.data)}` : ''} (lost write)`);
              tally(t, false);
            }
          } else if (reply.answered && reply.status === 404 && pending?.kind === 'delete') {
            live.delete(t.id);
            report.inFlightApplied++;
            tally(t, true);
          } else {
            v(`${label}: GET answered ${describe(reply)}, expected 200 with ${show(t.data)} (lost write)`);
            tally(t, false);
          }
        });
      }

      // 4b. every acknowledged delete is gone.
      const gone = [...deletedThisCycle.values()];
      for (let i = 0; i < gone.length; i += VERIFY_CONCURRENCY) {
        const batch = gone.slice(i, i + VERIFY_CONCURRENCY);
        const replies = await Promise.all(batch.map((t) => get(`/api/artifacts/${t.id}`)));
        batch.forEach((t, j) => {
          const reply = replies[j];
          const ok = reply.answered && reply.status === 404;
          if (ok) report.deletesGone++;
          else v(`artifact ${t.id} (key ${t.key}): acknowledged delete, but GET answered ${describe(reply)} (lost delete)`);
          tally(t, ok, 1);
        });
      }

      // 4c. a full scan holds exactly the known artifacts plus in-flight creates that were applied.
      const scanned: any[] = [];
      for (let page = 0; page < MAX_PAGES; page++) {
        const reply = await post('/api/artifacts/filter', { sort: 'ID_DESC', limit: PAGE, offset: page * PAGE });
        if (!reply.answered || reply.status !== 200 || !Array.isArray(reply.body)) {
          v(`POST /api/artifacts/filter offset ${page * PAGE} answered ${describe(reply)}`);
          break;
        }
        scanned.push(...reply.body);
        if (reply.body.length < PAGE) break;
      }
      const seen = new Set<string>();
      for (const a of scanned) {
        if (seen.has(a.id)) v(`the scan lists ${a.id} twice`);
        seen.add(a.id);
        const t = live.get(a.id);
        if (t) {
          if (!Bun.deepEquals(a.data, t.data)) v(`the scan shows ${a.id} with ${show(a.data)}, GET showed ${show(t.data)}`);
          continue;
        }
        const token = tokenOf(a.data);
        const sent = token === undefined ? undefined : inFlightCreates.get(token);
        if (sent && sent.key === a.key && Bun.deepEquals(sent.data, a.data)) {
          inFlightCreates.delete(token!); // applied: from now on it is an artifact like any other
          live.set(a.id, { id: a.id, key: a.key, data: a.data, createdThisCycle: false, patchesThisCycle: 0 });
          report.inFlightApplied++;
        } else {
          v(`the store holds ${a.id} (key ${a.key}, data ${show(a.data)}), which no acknowledged or in-flight write explains`);
        }
      }
      for (const id of readable) if (!seen.has(id)) v(`GET reads ${id} but POST /api/artifacts/filter does not list it`);
      report.artifacts = scanned.length;
      const count = await post('/api/artifacts/count', {});
      if (!count.answered || count.body !== scanned.length) v(`POST /api/artifacts/count answered ${describe(count)}, the scan found ${scanned.length}`);

      // 4d. latest of every key = the newest remaining version.
      const keysPresent = new Set(scanned.filter((a) => a.key !== null).map((a) => a.key as string));
      for (const key of KEYS) {
        const [newest, latest, collections] = await Promise.all([
          post('/api/artifacts/filter', { artifacts: { key: { any_: [key] } }, sort: 'CREATED_DESC', limit: 1 }),
          get(`/api/artifacts/${key}/latest`),
          post('/api/artifacts/latest/filter', { artifacts: { key: { any_: [key] } } }),
        ]);
        if (!newest.answered || newest.status !== 200 || !Array.isArray(newest.body)) {
          v(`filter of key ${key} answered ${describe(newest)}`);
          continue;
        }
        const versions = scanned.filter((a) => a.key === key).sort((a, b) => micros(b.created) - micros(a.created));
        const head = newest.body[0];
        if (versions[0]?.id !== head?.id) v(`key ${key}: filter CREATED_DESC gives ${head?.id}, the scan's newest is ${versions[0]?.id}`);
        if (head === undefined) {
          if (!latest.answered || latest.status !== 404) v(`key ${key} has no versions but GET /latest answered ${describe(latest)}`);
          if (!collections.answered || !Array.isArray(collections.body) || collections.body.length !== 0) {
            v(`key ${key} has no versions but /latest/filter answered ${describe(collections)}`);
          }
          continue;
        }
        if (!latest.answered || latest.status !== 200 || latest.body?.key !== key || !Bun.deepEquals(latest.body.data, head.data)) {
          v(`key ${key}: GET /latest answered ${describe(latest)}, the newest version ${head.id} has ${show(head.data)}`);
        }
        const collection = collections.answered && Array.isArray(collections.body) ? collections.body : [];
        if (collection.length !== 1 || collection[0].latest_id !== head.id) {
          v(`key ${key}: /latest/filter answered ${describe(collections)}, the newest version is ${head.id}`);
        }
      }
      const latestCount = await post('/api/artifacts/latest/count', {});
      if (!latestCount.answered || latestCount.body !== keysPresent.size) {
        v(`POST /api/artifacts/latest/count answered ${describe(latestCount)}, ${keysPresent.size} keys have versions`);
      }

      // 4e. the invariant checker, as a second process on the live store.
      const check = await runCheck(options.command, work, storeArgs);
      let checked: { ok?: boolean; findings?: string[]; counts?: { artifacts?: number } } | undefined;
      try {
        checked = JSON.parse(check.stdout);
      } catch {
        checked = undefined;
      }
      report.checkOk = check.status === 0 && checked?.ok === true;
      if (!report.checkOk) {
        v(`artifactd check exited ${check.status}: ${checked?.findings?.join('; ') ?? (check.stdout + check.stderr).trim().slice(0, 500)}`);
      } else if (checked?.counts?.artifacts !== scanned.length) {
        v(`artifactd check counts ${checked?.counts?.artifacts} artifacts, the scan found ${scanned.length}`);
      }

      // 5. a clean stop.
      const stopped = server;
      server = undefined;
      const status = await stopped.stop();
      if (status !== 0) v(`SIGTERM: the server ${status === null ? `did not exit within ${STOP_TIMEOUT_MS} ms` : `exited with status ${status}`}`);
      await died;
      report.durationMs = Math.round(performance.now() - cycleStarted);

      totals.creates += report.createsAcknowledged;
      totals.patches += report.patchesAcknowledged;
      totals.deletes += report.deletesAcknowledged;
      totals.acknowledged += report.createsAcknowledged + report.patchesAcknowledged + report.deletesAcknowledged;
      totals.inFlight += report.inFlight;
      totals.inFlightApplied += report.inFlightApplied;
      reports.push(report);
      log(
        `cycle ${cycle}: ${report.createsAcknowledged} creates acknowledged (${report.createsFound} found), ` +
          `${report.patchesAcknowledged} patches (${report.patchesFound} found), ` +
          `${report.deletesAcknowledged} deletes acknowledged (${report.deletesGone} gone), ` +
          `${report.inFlight} in flight at kill (${report.inFlightApplied} applied), ` +
          `check ${report.checkOk ? 'ok' : 'FAILED'}, killed after ${report.killedAfterMs} ms ` +
          `[${report.artifacts} artifacts, ${report.durationMs} ms]`,
      );
      if (found.length > 0) {
        violations.push(...found);
        for (const line of found.slice(0, MAX_PRINTED_VIOLATIONS)) log(`  violation: ${line}`);
        if (found.length > MAX_PRINTED_VIOLATIONS) log(`  ... and ${found.length - MAX_PRINTED_VIOLATIONS} more violations`);
        log(`crash: stopping after cycle ${cycle}: its violations leave no sound model to continue from`);
        break;
      }
    }
  } catch (error) {
    violations.push(`harness: ${(error as Error).message}`);
    log(`  violation: harness: ${(error as Error).message}`);
  } finally {
    if (server) await server.kill();
  }

  const ok = violations.length === 0 && reports.length === options.cycles;
  const kept = options.keep === true || (!ok && options.keepOnFailure !== false);
  if (!kept) rmSync(work, { recursive: true, force: true });
  return {
    ok,
    seed: options.seed,
    cycles: reports.length,
    writers,
    writesAcknowledged: totals.acknowledged,
    writesFound: totals.found,
    writesLost: totals.lost,
    createsAcknowledged: totals.creates,
    patchesAcknowledged: totals.patches,
    deletesAcknowledged: totals.deletes,
    inFlight: totals.inFlight,
    inFlightApplied: totals.inFlightApplied,
    violations,
    dataDir,
    kept,
    elapsedMs: Math.round(performance.now() - started),
    cycleReports: reports,
  };
}

// ── command line ─────────────────────────────────────────────────────────────────────────────

const USAGE = `usage: bun scripts/crash.ts [--cycles N] [--binary PATH | --source] [--writers N] [--seed N] [--keep] [--json]
                           [--database-url URL | --postgres]
  --cycles N     crash/restart cycles on one data dir (default 5)
  --binary PATH  the executable under test (default dist/artifactd; build it with npm run build)
  --source       run \`bun src/main.ts\` instead of an executable
  --writers N    concurrent writer loops (default 16)
  --seed N       seed of every random choice (default: random, printed)
  --keep         leave the data dir in place (it is always kept when a violation is found)
  --json         print a JSON summary as the last line
  --database-url URL
                 run against this PostgreSQL database (empty at the start; left as the run leaves it)
  --postgres     run against a throwaway PostgreSQL cluster (this machine's initdb, removed afterwards)`;

function usage(message: string): never {
  console.error(`crash: ${message}\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) usage(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

async function cli(argv: string[]): Promise<number> {
  const parse = () => {
    try {
      return parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          cycles: { type: 'string' },
          binary: { type: 'string' },
          source: { type: 'boolean' },
          writers: { type: 'string' },
          seed: { type: 'string' },
          keep: { type: 'boolean' },
          json: { type: 'boolean' },
          'database-url': { type: 'string' },
          postgres: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }).values;
    } catch (error) {
      usage((error as Error).message);
    }
  };
  const values = parse();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const cycles = integer('cycles', values.cycles, 5, 1, 100_000);
  const writers = integer('writers', values.writers, 16, 1, 256);
  const seed = integer('seed', values.seed, crypto.getRandomValues(new Uint32Array(1))[0], 0, 2 ** 32 - 1);
  if (values.source && values.binary !== undefined) usage('--binary and --source exclude each other');
  let command: string[];
  let label: string;
  if (values.source) {
    command = sourceCommand();
    label = `bun ${relative(process.cwd(), MAIN) || MAIN}`;
  } else {
    const binary = values.binary === undefined ? DEFAULT_BINARY : resolve(values.binary);
    if (!existsSync(binary)) {
      console.error(
        values.binary === undefined
          ? `crash: ${relative(process.cwd(), binary)} does not exist: run \`npm run build\` first (or pass --source to test \`bun src/main.ts\`)`
          : `crash: ${binary} does not exist`,
      );
      return 2;
    }
    command = [binary];
    label = relative(process.cwd(), binary) || binary;
  }

  if (values.postgres && values['database-url'] !== undefined) usage('--database-url and --postgres exclude each other');
  let databaseUrl = values['database-url'];
  let where = 'LMDB';
  if (databaseUrl !== undefined) {
    const { parseDatabaseUrl, redactDatabaseUrl } = await import('../src/store/postgres/url.ts');
    try {
      parseDatabaseUrl(databaseUrl);
    } catch (error) {
      usage(`--database-url: ${(error as Error).message}`);
    }
    where = `PostgreSQL ${redactDatabaseUrl(databaseUrl)}`;
  } else if (values.postgres) {
    // The tests' throwaway cluster: started here, removed when this process exits.
    const { freshDatabase, testDatabaseUrl } = await import('../test/postgres/cluster.ts');
    if ((await testDatabaseUrl()) === null) {
      console.error('crash: --postgres needs PostgreSQL\'s binaries (initdb, pg_ctl, postgres): apt-get install postgresql');
      return 2;
    }
    databaseUrl = (await freshDatabase('crash')).url;
    where = `PostgreSQL (throwaway cluster) ${databaseUrl}`;
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\ncrash: ${signal}, stopping`);
      killChildren();
      process.exit(130);
    });
  }

  console.log(`crash: seed ${seed}, ${cycles} cycles, ${writers} writers, ${label}, ${where}`);
  const summary = await crashCycles({ cycles, command, writers, seed, keep: values.keep === true, databaseUrl });
  const seconds = (summary.elapsedMs / 1000).toFixed(1);
  console.log(
    `crash: ${summary.cycles} cycles, ${summary.writesAcknowledged} writes acknowledged, ${summary.writesFound} found, ${summary.writesLost} lost ` +
      `(${summary.createsAcknowledged} creates, ${summary.patchesAcknowledged} patches, ${summary.deletesAcknowledged} deletes; ` +
      `${summary.inFlight} in flight at kills, ${summary.inFlightApplied} of them applied) in ${seconds} s, seed ${summary.seed}`,
  );
  if (!summary.ok) {
    // Each violation was printed under its cycle.
    console.log(`crash: FAILED with ${summary.violations.length} violation${summary.violations.length === 1 ? '' : 's'} (seed ${summary.seed})`);
  }
  if (summary.kept && databaseUrl === undefined) console.log(`crash: data dir kept at ${summary.dataDir}`);
  if (values.json) {
    const { cycleReports, ...rest } = summary;
    console.log(JSON.stringify({ ...rest, cycleReports: cycleReports.map(({ violations, ...r }) => r) }));
  }
  return summary.ok ? 0 : 1;
}

if (import.meta.main) process.exit(await cli(process.argv.slice(2)));
