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
 * (through runuser, setpriv or su), in a temporary directory owned by `nobody`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { SQL } from 'bun';

const PROGRAMS = ['initdb', 'pg_ctl', 'postgres'] as const;

/**
 * The directory with initdb, pg_ctl and postgres: the one `initdb` on PATH lives in (symlinks
 * followed, so /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin), else the newest
 * /usr/lib/postgresql/N/bin; null when there is none.
 */
export function findPostgresBin(env: Record<string, string | undefined> = process.env): string | null {
  const complete = (dir: string) => PROGRAMS.every((p) => existsSync(join(dir, p)));
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !existsSync(join(dir, 'initdb'))) continue;
    try {
      const real = dirname(realpathSync(join(dir, 'initdb')));
      if (complete(real)) return real;
    } catch {
      // a dangling symlink: look further
    }
    if (complete(dir)) return dir;
  }
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (complete(dir)) return dir;
  }
  return null;
}

interface Cluster {
  bin: string;
  dir: string;
  data: string;
  log: string;
  port: number;
  url: string;
  /** The command prefix that runs a program as the cluster's owner ([] when not root). */
  asOwner: string[];
  admin?: SQL;
  running: boolean;
  removed: boolean;
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
  const dir = mkdtempSync(join(tmpdir(), 'artifactd-pg-'));
  const asOwner = ownerPrefix();
  const c: Cluster = {
    bin,
    dir,
    data: join(dir, 'data'),
    log: join(dir, 'postgres.log'),
    port: 0,
    url: '',
    asOwner,
    running: false,
    removed: false,
  };
  registerCleanup(c);
  try {
    if (asOwner.length > 0) {
      const { uid, gid } = nobody();
      chownSync(dir, uid, gid);
    }
    await run(c, 'initdb', ['-D', c.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // A free port can be taken between the probe and the start: try a few.
    for (let attempt = 1; ; attempt++) {
      c.port = await freePort();
      configure(c);
      try {
        await pgCtlStart(c);
        break;
      } catch (error) {
        if (attempt >= 3 || !/could not bind|address already in use/i.test(logTail(c))) throw error;
      }
    }
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

/** Test settings, rewritten before each start attempt (the port may change between attempts). */
function configure(c: Cluster): void {
  const conf = join(c.data, 'postgresql.conf');
  const marker = '# --- artifactd test cluster ---';
  const base = readFileSync(conf, 'utf8').split(marker)[0];
  writeFileSync(
    conf,
    `${base}${marker}
listen_addresses = '127.0.0.1'
port = ${c.port}
unix_socket_directories = '${c.dir}'
max_connections = 200
fsync = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
log_min_error_statement = panic
`,
  );
}

function pgCtlStart(c: Cluster): Promise<void> {
  return run(c, 'pg_ctl', ['start', '-w', '-t', '60', '-D', c.data, '-l', c.log]).then(() => {
    c.running = true;
  });
}

/** Stops the test cluster (`pg_ctl stop -m fast`), keeping its data, port and URL for `startCluster`. */
export async function stopCluster(): Promise<void> {
  const c = await started('stopCluster');
  await run(c, 'pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', c.data]);
  c.running = false;
}

/** Starts the test cluster again after `stopCluster`: same data directory, same port, same URL. */
export async function startCluster(): Promise<void> {
  const c = await started('startCluster');
  if (c.running) return;
  await pgCtlStart(c);
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

// --- running the server's programs ------------------------------------------------------------

/** The uid and gid of `nobody`, from /etc/passwd. */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = (line ?? '').split(':');
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no user nobody to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

const onPath = (program: string) => (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).concat('/usr/sbin', '/sbin').some((d) => d !== '' && existsSync(join(d, program)));

/** As root: the prefix that runs a command as `nobody`; otherwise none. */
function ownerPrefix(): string[] {
  if (process.getuid?.() !== 0) return [];
  if (onPath('runuser')) return ['runuser', '-u', 'nobody', '--'];
  const { uid, gid } = nobody();
  if (onPath('setpriv')) return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
  return ['su', '-s', '/bin/sh', 'nobody', '-c', '"$0" "$@"'];
}

/** Runs one of the cluster's programs as its owner, in its directory; rejects with its output. */
function run(c: Cluster, program: (typeof PROGRAMS)[number], args: string[]): Promise<void> {
  const command = [...c.asOwner, join(c.bin, program), ...args];
  // `su … -c '"$0" "$@"' prog args…` passes the program and its arguments unquoted.
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: c.dir,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const log = program === 'pg_ctl' ? `\n--- server log ---\n${logTail(c)}` : '';
      reject(new Error(`${program} ${args[0]} failed (exit ${code}):\n${output.trim()}${log}`));
    });
  });
}

function logTail(c: Cluster): string {
  try {
    return readFileSync(c.log, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// --- removal ----------------------------------------------------------------------------------

/** Stops the server at once and removes the directory; idempotent, synchronous (runs at exit). */
function cleanup(c: Cluster): void {
  if (c.removed) return;
  c.removed = true;
  if (existsSync(join(c.data, 'postmaster.pid'))) {
    const command = [...c.asOwner, join(c.bin, 'pg_ctl'), 'stop', '-w', '-m', 'immediate', '-D', c.data];
    spawnSync(command[0], command.slice(1), { cwd: c.dir, stdio: 'ignore', timeout: 30_000 });
  }
  c.running = false;
  rmSync(c.dir, { recursive: true, force: true });
}

function registerCleanup(c: Cluster): void {
  // Bun's test runner fires no 'exit' event, and a process killed outright runs no handler at all:
  // a watchdog shell holds the read end of a pipe whose write end only this process holds, and
  // when that closes — however the process ended — stops the cluster and removes the directory.
  const pgCtl = [...c.asOwner, join(c.bin, 'pg_ctl')].map(shellQuote).join(' ');
  const script =
    "trap '' INT TERM HUP; cat >/dev/null; " + // Ctrl-C reaches the whole process group: outlive it
    `if [ -f ${shellQuote(join(c.data, 'postmaster.pid'))} ]; then ${pgCtl} stop -w -m immediate -D ${shellQuote(c.data)} >/dev/null 2>&1; fi; ` +
    `rm -rf ${shellQuote(c.dir)}`;
  const watchdog = Bun.spawn(['/bin/sh', '-c', script], { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore', cwd: '/' });
  watchdog.unref();
  // Where it does run, the same cleanup at once (synchronously) — the watchdog then finds nothing.
  process.on('exit', () => cleanup(c));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      cleanup(c);
      process.exit(code);
    });
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
