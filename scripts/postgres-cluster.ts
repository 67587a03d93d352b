/**
 * Running a throwaway PostgreSQL cluster from the binaries on this machine: the part the tests'
 * cluster (test/postgres/cluster.ts: fsync off) and the benchmark's (bench/pg-cluster.ts:
 * durable) share. Each decides its own settings, lifetime and clients.
 *
 * PostgreSQL refuses to run as root: as root (uid 0) every server program runs as `nobody`
 * (through runuser, setpriv or su), in a temporary directory owned by `nobody`. A watchdog
 * process stops the server and removes the directory however the owning process ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

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

/** A cluster's files and how its programs are run. */
export interface ClusterFiles {
  /** The directory of initdb, pg_ctl, postgres. */
  bin: string;
  /** The temporary directory: the data directory, the log, the socket. */
  dir: string;
  data: string;
  log: string;
  /** The command prefix that runs a program as the cluster's owner ([] when not root). */
  asOwner: string[];
}

/** A new temporary directory for a cluster (`<tmp>/<prefix>XXXXXX`), owned by `nobody` when root. */
export function clusterFiles(bin: string, prefix: string): ClusterFiles {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const asOwner = ownerPrefix();
  if (asOwner.length > 0) {
    const { uid, gid } = nobody();
    chownSync(dir, uid, gid);
  }
  return { bin, dir, data: join(dir, 'data'), log: join(dir, 'postgres.log'), asOwner };
}

/** `initdb` of the data directory: trust authentication, superuser `postgres`, UTF8, locale C. */
export async function initdb(c: ClusterFiles, extra: string[] = []): Promise<void> {
  await runProgram(c, 'initdb', ['-D', c.data, '-A', 'trust', '-U', 'postgres', ...extra, '-E', 'UTF8', '--locale=C']);
}

/**
 * Starts the server on a free loopback port, its settings (`settings`, after the address, port,
 * socket directory and logging ones) written into postgresql.conf below `marker` before each
 * attempt: a free port can be taken between the probe and the start, so up to three are tried.
 * Resolves to the port.
 */
export async function startOnFreePort(c: ClusterFiles, marker: string, settings: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(c.data, 'postgresql.conf');
    const base = readFileSync(conf, 'utf8').split(marker)[0];
    writeFileSync(
      conf,
      `${base}${marker}
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${c.dir}'
max_connections = 200
log_min_messages = warning
log_min_error_statement = panic
${settings}`,
    );
    try {
      await pgCtlStart(c);
      return port;
    } catch (error) {
      if (attempt >= 3 || !/could not bind|address already in use/i.test(logTail(c))) throw error;
    }
  }
}

/** `pg_ctl start`, waiting up to 60 s until the server accepts connections. */
export async function pgCtlStart(c: ClusterFiles): Promise<void> {
  await runProgram(c, 'pg_ctl', ['start', '-w', '-t', '60', '-D', c.data, '-l', c.log]);
}

/**
 * Runs one of the cluster's programs as its owner, in its directory; resolves to its output,
 * rejects with it (and, for pg_ctl, the server log's tail). Killed after two minutes.
 */
export function runProgram(c: ClusterFiles, program: string, args: string[], asOwner = c.asOwner): Promise<string> {
  const command = [...asOwner, join(c.bin, program), ...args];
  // `su … -c '"$0" "$@"' prog args…` passes the program and its arguments unquoted.
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: c.dir,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) return resolve(output);
      const log = program === 'pg_ctl' ? `\n--- server log ---\n${logTail(c)}` : '';
      reject(new Error(`${program} ${args[0]} failed (exit ${code}):\n${output.trim()}${log}`));
    });
  });
}

/** The last 20 lines of the server log ('' when there is none yet). */
export function logTail(c: ClusterFiles): string {
  try {
    return readFileSync(c.log, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/**
 * Stop-and-remove however this process ends: returns `stopAndRemove` (synchronous, for exit
 * handlers; stops the server at once if it runs, removes the directory), and starts a watchdog
 * shell that does the same when this process is gone — even killed outright, when no handler
 * runs: it holds the read end of a pipe whose write end only this process holds.
 */
export function removeWhenGone(c: ClusterFiles): () => void {
  const pgCtl = [...c.asOwner, join(c.bin, 'pg_ctl')].map(shellQuote).join(' ');
  const script = `if [ -f ${shellQuote(join(c.data, 'postmaster.pid'))} ]; then ${pgCtl} stop -w -m immediate -D ${shellQuote(c.data)} >/dev/null 2>&1; fi; rm -rf ${shellQuote(c.dir)}`;
  // Ctrl-C reaches the whole process group: the watchdog outlives it.
  const watchdog = Bun.spawn(['/bin/sh', '-c', `trap '' INT TERM HUP; cat >/dev/null; ${script}`], { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore', cwd: '/' });
  watchdog.unref();
  return () => {
    spawnSync('/bin/sh', ['-c', script], { cwd: '/', stdio: 'ignore', timeout: 60_000 });
  };
}

/** Whether `program` is on PATH (or in /usr/sbin, /sbin). */
export const onPath = (program: string) =>
  (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).concat('/usr/sbin', '/sbin').some((d) => d !== '' && existsSync(join(d, program)));

/** The uid and gid of `nobody`, from /etc/passwd. */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = (line ?? '').split(':');
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no user nobody to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

/** As root: the prefix that runs a command as `nobody`; otherwise none. */
function ownerPrefix(): string[] {
  if (process.getuid?.() !== 0) return [];
  if (onPath('runuser')) return ['runuser', '-u', 'nobody', '--'];
  const { uid, gid } = nobody();
  if (onPath('setpriv')) return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
  return ['su', '-s', '/bin/sh', 'nobody', '-c', '"$0" "$@"'];
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

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
