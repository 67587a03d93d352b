/**
 * The benchmark's PostgreSQL cluster: DURABLE, unlike the tests' (test/postgres/cluster.ts, which
 * turns fsync off): fsync, full_page_writes and synchronous_commit stay at PostgreSQL's defaults
 * (on), so a create the server acknowledged is on disk — "durable creates" mean durable.
 *
 * Like the tests' cluster, and through the same code (scripts/postgres-cluster.ts): the binaries
 * found on this machine, `initdb` into a temp dir, as `nobody` when root (PostgreSQL refuses to run
 * as root), a loopback port, and a watchdog process that stops the server and removes the dir
 * however the bench ends. Beside that: `pg_stat_statements` preloaded (the profile of each scenario), and
 * the CPU time of every PostgreSQL process (`cpuTicks`) for the CPU share.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQL } from 'bun';
import { clusterFiles, findPostgresBin, initdb, removeWhenGone, runProgram, startOnFreePort } from '../scripts/postgres-cluster.ts';
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

/** Starts a durable cluster in a new temp dir; removed when the bench exits (or by the watchdog). */
export async function startBenchCluster({ sharedBuffers = '256MB' }: { sharedBuffers?: string } = {}): Promise<BenchCluster> {
  const bin = process.env.ARTIFACTD_TEST_POSTGRES_BIN && process.env.ARTIFACTD_TEST_POSTGRES_BIN !== 'none' ? process.env.ARTIFACTD_TEST_POSTGRES_BIN : findPostgresBin();
  if (!bin) throw new Error('--postgres: no initdb found on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const c = clusterFiles(bin, 'artifactd-bench-pg-');
  const { dir, data } = c;
  // Removal however the bench ends: at exit (procs.ts cleanup) and, should the bench be killed
  // outright, the watchdog.
  const remove = removeWhenGone(c);
  let stopped = false;
  let admin: SQL | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    void admin?.close({ timeout: 0 }).catch(() => {});
    remove();
  };
  onCleanup(stop);

  await initdb(c);
  const libdir = (await runProgram(c, 'pg_config', ['--pkglibdir'], []).catch(() => '')).trim();
  const haveStatements = libdir !== '' && existsSync(join(libdir, 'pg_stat_statements.so'));
  // Durability settings are left at their defaults (fsync, full_page_writes, synchronous_commit
  // on, wal_sync_method the platform's): only sizes, the address and the statistics are set.
  const port = await startOnFreePort(
    c,
    '# --- artifactd bench cluster ---',
    `shared_buffers = ${sharedBuffers}
max_wal_size = 4GB
${haveStatements ? "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = top\n" : ''}`,
  );
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
