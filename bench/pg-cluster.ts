/**
 * The benchmark's PostgreSQL cluster: DURABLE, unlike the tests' (test/postgres/cluster.ts, which
 * turns fsync off): fsync, full_page_writes and synchronous_commit stay at PostgreSQL's defaults
 * (on), so a create the server acknowledged is on disk — "durable creates" mean durable.
 *
 * Like the tests' cluster: the binaries found on this machine (`findPostgresBin`, shared with the
 * tests), `initdb` into a temp dir, as `nobody` when root (PostgreSQL refuses to run as root), a
 * loopback port, and a watchdog process that stops the server and removes the dir however the
 * bench ends. Beside that: `pg_stat_statements` preloaded (the profile of each scenario), and
 * the CPU time of every PostgreSQL process (`cpuTicks`) for the CPU share.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { SQL } from 'bun';
import { findPostgresBin } from '../test/postgres/cluster.ts';
import { onCleanup } from './procs.ts';

export interface BenchCluster {
  bin: string;
  version: string;
  dir: string;
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  adminUrl: string;
  /** The postmaster's pid (its children are the backends, walwriter, checkpointer, …). */
  pid: number;
  /** A client on the `postgres` database (pg_stat_statements, CREATE DATABASE). */
  admin: SQL;
  /** Whether pg_stat_statements is loaded and created. */
  statements: boolean;
  /** The settings that make it durable, as the server reports them. */
  settings: Record<string, string>;
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = (line ?? '').split(':');
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no user nobody to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

const onPath = (program: string) =>
  (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).concat('/usr/sbin', '/sbin').some((d) => d !== '' && existsSync(join(d, program)));

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

function runAs(owner: string[], cwd: string, program: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const command = [...owner, program, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, env: { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${program} ${args[0]} failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

/** Starts a durable cluster in a new temp dir; removed when the bench exits (or by the watchdog). */
export async function startBenchCluster({ sharedBuffers = '256MB' }: { sharedBuffers?: string } = {}): Promise<BenchCluster> {
  const bin = process.env.ARTIFACTD_TEST_POSTGRES_BIN && process.env.ARTIFACTD_TEST_POSTGRES_BIN !== 'none' ? process.env.ARTIFACTD_TEST_POSTGRES_BIN : findPostgresBin();
  if (!bin) throw new Error('--postgres: no initdb found on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'artifactd-bench-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const owner = ownerPrefix();
  if (owner.length > 0) {
    const { uid, gid } = nobody();
    chownSync(dir, uid, gid);
  }
  // Removal however the bench ends: at exit (procs.ts cleanup) and, should the bench be killed
  // outright, a watchdog holding a pipe only this process writes to.
  const pgCtl = [...owner, join(bin, 'pg_ctl')].map(shellQuote).join(' ');
  const stopScript = `if [ -f ${shellQuote(join(data, 'postmaster.pid'))} ]; then ${pgCtl} stop -w -m immediate -D ${shellQuote(data)} >/dev/null 2>&1; fi; rm -rf ${shellQuote(dir)}`;
  const watchdog = Bun.spawn(['/bin/sh', '-c', `trap '' INT TERM HUP; cat >/dev/null; ${stopScript}`], { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore', cwd: '/' });
  watchdog.unref();
  let stopped = false;
  let admin: SQL | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    void admin?.close({ timeout: 0 }).catch(() => {});
    spawnSync('/bin/sh', ['-c', stopScript], { cwd: '/', stdio: 'ignore', timeout: 60_000 });
  };
  onCleanup(stop);

  await runAs(owner, dir, join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
  const libdir = (await runAs([], dir, join(bin, 'pg_config'), ['--pkglibdir']).catch(() => '')).trim();
  const haveStatements = libdir !== '' && existsSync(join(libdir, 'pg_stat_statements.so'));
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const conf = join(data, 'postgresql.conf');
    const marker = '# --- artifactd bench cluster ---';
    const base = readFileSync(conf, 'utf8').split(marker)[0];
    // Durability settings are left at their defaults (fsync, full_page_writes, synchronous_commit
    // on, wal_sync_method the platform's): only sizes, the address and the statistics are set.
    writeFileSync(
      conf,
      `${base}${marker}
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${dir}'
max_connections = 200
shared_buffers = ${sharedBuffers}
max_wal_size = 4GB
log_min_messages = warning
log_min_error_statement = panic
${haveStatements ? "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = top\n" : ''}`,
    );
    try {
      await runAs(owner, dir, join(bin, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', log]);
      break;
    } catch (error) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (attempt >= 3 || !/could not bind|address already in use/i.test(tail)) throw new Error(`${(error as Error).message}\n${tail.split('\n').slice(-20).join('\n')}`);
    }
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  admin = new SQL({ hostname: '127.0.0.1', port, username: 'postgres', password: '', database: 'postgres', max: 2 });
  let statements = false;
  if (haveStatements) {
    await admin.unsafe('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    statements = true;
  }
  const settings: Record<string, string> = {};
  for (const row of await admin.unsafe(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers','commit_delay','max_connections')`,
  )) {
    settings[row.name] = row.unit && row.unit !== '' && row.name === 'shared_buffers' ? `${(Number(row.setting) * 8) / 1024} MB` : row.setting;
  }
  const [{ v }] = await admin.unsafe("SELECT current_setting('server_version') AS v");
  return {
    bin,
    version: String(v),
    dir,
    port,
    adminUrl,
    pid,
    admin,
    statements,
    settings,
    async createDatabase(name: string) {
      await admin!.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin!.unsafe(`CREATE DATABASE "${name}" TEMPLATE template0`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}

// ── CPU ─────────────────────────────────────────────────────────────────────────────────────

function statFields(pid: number): number[] | undefined {
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

/**
 * CPU ticks (1/100 s) of the whole PostgreSQL process tree: every child of the postmaster
 * (backends, walwriter, checkpointer, …) plus the postmaster itself with its reaped children's
 * time (cutime/cstime), so a backend that exits during a window still counts (its time moves
 * from the live sum into the postmaster's cutime).
 */
export function treeTicks(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) return 0;
  // rest[0] is field 3 (state); ppid 4 → rest[1]; utime 14 → rest[11], stime rest[12], cutime rest[13], cstime rest[14]
  let ticks = own[11] + own[12] + own[13] + own[14];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && f[1] === postmaster) ticks += f[11] + f[12];
  }
  return ticks;
}

/** utime + stime of one process (1/100 s). */
export function processTicks(pid: number): number {
  const f = statFields(pid);
  return f ? f[11] + f[12] : 0;
}
