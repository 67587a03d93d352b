/**
 * A throwaway PostgreSQL cluster for the tests: one per `bun test` process (bun runs every test
 * file in one process), started on first use with the binaries found on this machine, removed when
 * the process exits however it exits (a watchdog process sees it go), and at once on SIGINT/SIGTERM.
 *
 *   const url = await testDatabaseUrl();           // null: no PostgreSQL here (one line printed)
 *   describe.skipIf(url === null)('…', () => { … });
 *   const db = await freshDatabase('artifacts');   // an empty database of its own
 *   … new SQL(db.url) …
 *   await db.drop();
 *
 * Call `testDatabaseUrl()` at a test file's top level (top-level await), not in a hook: starting
 * the cluster then counts against no test's timeout.
 *
 * Without PostgreSQL's binaries `testDatabaseUrl()` answers null after printing one line — and
 * throws when `CI` is set, because in CI a skipped PostgreSQL suite is a failure.
 *
 * PostgreSQL refuses to run as root: as root (uid 0) every server program runs as `nobody`
 * (through runuser, setpriv or su), in a temporary directory owned by `nobody`. How the cluster is
 * made, started and removed is shared with the benchmark's (scripts/postgres-cluster.ts); the
 * settings here are the tests' own (fsync off).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQL } from 'bun';
import {
  clusterFiles,
  findPostgresBin,
  initdb,
  onPath,
  pgCtlStart,
  removeWhenGone,
  runProgram,
  startOnFreePort,
  type ClusterFiles,
} from '../../scripts/postgres-cluster.ts';

export { findPostgresBin };

interface Cluster extends ClusterFiles {
  port: number;
  url: string;
  admin?: SQL;
  running: boolean;
  removed: boolean;
  /** Stops the server at once and removes the directory (synchronously). */
  remove(): void;
}

/** Process-wide state, on globalThis so that a second copy of this module shares it. */
interface State {
  cluster: Promise<Cluster | null> | undefined;
  databases: number;
}
const STATE_KEY = Symbol.for('artifactd.test.postgres.cluster');
const state: State = ((globalThis as Record<symbol, unknown>)[STATE_KEY] ??= { cluster: undefined, databases: 0 }) as State;

/**
 * The URL of this process's test cluster (`postgres://postgres@127.0.0.1:PORT/postgres`, trust
 * authentication), starting it on the first call; null when PostgreSQL is not installed.
 */
export function testDatabaseUrl(): Promise<string | null> {
  return cluster().then((c) => c?.url ?? null);
}

function cluster(): Promise<Cluster | null> {
  state.cluster ??= start();
  return state.cluster;
}

/** ARTIFACTD_TEST_POSTGRES_BIN picks the directory (one of several versions), or `none`: act as if there were none. */
function postgresBin(): string | null {
  const chosen = process.env.ARTIFACTD_TEST_POSTGRES_BIN;
  if (chosen === 'none') return null;
  return chosen ? chosen : findPostgresBin();
}

async function start(): Promise<Cluster | null> {
  const bin = postgresBin();
  if (bin === null) {
    const line = 'PostgreSQL tests skipped: no initdb found on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
    if (process.env.CI) throw new Error(`${line} — and CI is set, where a skip is a failure`);
    console.warn(line);
    return null;
  }
  const started = performance.now();
  const files = clusterFiles(bin, 'artifactd-pg-');
  const c: Cluster = { ...files, port: 0, url: '', running: false, removed: false, remove: removeWhenGone(files) };
  registerCleanup(c);
  try {
    await initdb(c, ['--no-sync']);
    c.port = await startOnFreePort(c, '# --- artifactd test cluster ---', TEST_SETTINGS);
    c.running = true;
    c.url = `postgres://postgres@127.0.0.1:${c.port}/postgres`;
    if (process.env.ARTIFACTD_TEST_PG_VERBOSE) {
      console.warn(`test PostgreSQL (${bin}) ready at ${c.url} in ${Math.round(performance.now() - started)} ms`);
    }
    return c;
  } catch (error) {
    cleanup(c);
    throw error;
  }
}

/** The test cluster's settings: fast, not durable (a throwaway). */
const TEST_SETTINGS = `fsync = off
full_page_writes = off
shared_buffers = 64MB
`;

/** Stops the test cluster (`pg_ctl stop -m fast`), keeping its data, port and URL for `startCluster`. */
export async function stopCluster(): Promise<void> {
  const c = await started('stopCluster');
  await runProgram(c, 'pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', c.data]);
  c.running = false;
}

/** Starts the test cluster again after `stopCluster`: same data directory, same port, same URL. */
export async function startCluster(): Promise<void> {
  const c = await started('startCluster');
  if (c.running) return;
  await pgCtlStart(c);
  c.running = true;
}

async function started(what: string): Promise<Cluster> {
  const c = await cluster();
  if (c === null) throw new Error(`${what}: there is no test PostgreSQL cluster on this machine`);
  return c;
}

/**
 * A new, empty database in the test cluster, named `<prefix>_<pid>_<n>`; `drop()` removes it
 * (closing any connection still open to it). Throws when there is no cluster: call
 * `testDatabaseUrl()` first and skip without one.
 */
export async function freshDatabase(prefix = 'test'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const c = await started('freshDatabase');
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30) || 'test';
  const name = `${clean}_${process.pid}_${++state.databases}`;
  await admin(c, (sql) => sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE template0`));
  let dropped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${c.port}/${name}`,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(c, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * One statement over the cluster's admin client (database `postgres`). Bun's pool reconnects by
 * itself after `stopCluster()`/`startCluster()`, and an idle connection keeps no process alive.
 */
async function admin(c: Cluster, statement: (sql: SQL) => Promise<unknown>): Promise<void> {
  c.admin ??= new SQL({ hostname: '127.0.0.1', port: c.port, username: 'postgres', password: '', database: 'postgres', max: 2 });
  await statement(c.admin);
}

/**
 * Turns TLS on in the test cluster (a throwaway CA and a server certificate for 127.0.0.1 and
 * localhost, made with `openssl`) until `dispose()`; null when there is no cluster or no openssl.
 * Connections opened before stay as they were; new ones may ask for TLS. `ssl` takes a reload,
 * not a restart.
 */
export async function enableClusterTls(): Promise<{ caFile: string; dispose(): Promise<void> } | null> {
  const c = await cluster();
  if (c === null || !onPath('openssl')) return null;
  const dir = join(c.dir, 'tls');
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=artifactd test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');
  const { uid, gid } = statSync(c.data);
  for (const f of ['server.crt', 'server.key']) {
    chmodSync(join(dir, f), 0o600);
    chownSync(join(dir, f), uid, gid);
  }
  chownSync(dir, uid, gid);
  const reload = async (statements: string[], ssl: 'on' | 'off') => {
    await admin(c, async (sql) => {
      for (const statement of statements) await sql.unsafe(statement);
      await sql.unsafe('SELECT pg_reload_conf()');
    });
    // The reload is a signal: wait until a new session sees it.
    for (let i = 0; i < 100; i++) {
      const probe = new SQL({ hostname: '127.0.0.1', port: c.port, username: 'postgres', password: '', database: 'postgres', max: 1, tls: 'disable' });
      try {
        const [row] = await probe`SELECT current_setting('ssl') AS ssl`;
        if (row.ssl === ssl) return;
      } finally {
        await probe.close();
      }
      await Bun.sleep(50);
    }
    throw new Error(`the test cluster did not turn ssl ${ssl} after a reload`);
  };
  await reload([`ALTER SYSTEM SET ssl_cert_file = '${join(dir, 'server.crt')}'`, `ALTER SYSTEM SET ssl_key_file = '${join(dir, 'server.key')}'`, 'ALTER SYSTEM SET ssl = on'], 'on');
  return {
    caFile: join(dir, 'ca.crt'),
    async dispose() {
      await reload(['ALTER SYSTEM RESET ssl', 'ALTER SYSTEM RESET ssl_cert_file', 'ALTER SYSTEM RESET ssl_key_file'], 'off');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- removal ----------------------------------------------------------------------------------

/** Stops the server at once and removes the directory; idempotent, synchronous (runs at exit). */
function cleanup(c: Cluster): void {
  if (c.removed) return;
  c.removed = true;
  c.remove();
  c.running = false;
}

function registerCleanup(c: Cluster): void {
  // Bun's test runner fires no 'exit' event, and a process killed outright runs no handler at all:
  // the watchdog (removeWhenGone) sees to that. Where a handler does run, the same cleanup at once
  // (synchronously) — the watchdog then finds nothing.
  process.on('exit', () => cleanup(c));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      cleanup(c);
      process.exit(code);
    });
  }
}
