/**
 * The throwaway PostgreSQL cluster the PostgreSQL tests run against (test/postgres/cluster.ts):
 * it starts, answers, hands out isolated databases, and comes back after a stop.
 */
import { describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findPostgresBin, freshDatabase, startCluster, stopCluster, testDatabaseUrl } from './cluster.ts';

// At the top level: starting the cluster counts against no test's timeout. Null (one line
// printed) without PostgreSQL's binaries; under CI that throws instead.
const url = await testDatabaseUrl();

test('findPostgresBin finds initdb, pg_ctl and postgres together, or answers null', () => {
  const bin = findPostgresBin();
  if (url !== null) expect(bin).not.toBeNull();
  if (bin !== null) for (const p of ['initdb', 'pg_ctl', 'postgres']) expect(existsSync(join(bin, p))).toBe(true);
  // PATH without PostgreSQL still finds /usr/lib/postgresql/N/bin when it is there.
  const fromLib = findPostgresBin({ PATH: '/nonexistent' });
  if (fromLib !== null) expect(fromLib).toMatch(/^\/usr\/lib\/postgresql\/[\d.]+\/bin$/);
});

describe.skipIf(url === null)('the test cluster', () => {
  test('one cluster per process: the same URL every call, on loopback, and it answers', async () => {
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(await testDatabaseUrl()).toBe(url);
    const sql = new SQL(url!);
    try {
      const [row] = await sql`select 1 as one, current_setting('fsync') as fsync, current_setting('max_connections') as max`;
      expect(row).toEqual({ one: 1, fsync: 'off', max: '200' });
    } finally {
      await sql.close();
    }
  });

  test('freshDatabase: a new empty database each time, isolated from the others, gone after drop()', async () => {
    const a = await freshDatabase('cluster test');
    const b = await freshDatabase('cluster test');
    expect(a.url).not.toBe(b.url);
    expect(a.name).toMatch(/^cluster_test_\d+_\d+$/);
    const sa = new SQL(a.url);
    const sb = new SQL(b.url);
    try {
      await sa`create table t (x int)`;
      await sa`insert into t values (42)`;
      expect(await sa`select x from t`).toEqual([{ x: 42 }] as any);
      const [row] = await sb`select to_regclass('t') as t, current_database() as db`;
      expect(row).toEqual({ t: null, db: b.name });
    } finally {
      await sb.close();
      // drop() closes a connection still open to the database (WITH (FORCE)).
      await a.drop();
      await b.drop();
      await sa.close().catch(() => {});
    }
    const sql = new SQL(url!);
    try {
      const rows = await sql`select datname from pg_database where datname in ${sql([a.name, b.name])}`;
      expect(rows.length).toBe(0);
    } finally {
      await sql.close();
    }
    await a.drop(); // twice is harmless
  });

  test('stopCluster refuses connections; startCluster brings the same cluster back on the same URL', async () => {
    const db = await freshDatabase('restart');
    const sql = new SQL({ url: db.url, max: 1, connectionTimeout: 5 });
    try {
      await sql`create table kept (x int)`;
      await sql`insert into kept values (7)`;
      await stopCluster();
      const down = await sql`select 1`.then(
        () => 'answered',
        (error: { code?: string }) => error.code,
      );
      expect(down).toBe('ERR_POSTGRES_CONNECTION_REFUSED');
      await startCluster();
      // The pool that saw the failure reconnects, and so does a new client.
      expect(await sql`select x from kept`).toEqual([{ x: 7 }] as any);
      const again = new SQL(url!);
      try {
        expect(await again`select 1 as one`).toEqual([{ one: 1 }] as any);
      } finally {
        await again.close();
      }
    } finally {
      await startCluster(); // if an expectation failed while it was down
      await sql.close();
      await db.drop();
    }
  });
});

describe('without PostgreSQL', () => {
  const probe = (env: Record<string, string | undefined>) => {
    const child = Bun.spawnSync(
      [process.execPath, '-e', `import { testDatabaseUrl } from ${JSON.stringify(join(import.meta.dir, 'cluster.ts'))}; console.log(String(await testDatabaseUrl())); console.log(String(await testDatabaseUrl()));`],
      { env: { ...process.env, CI: undefined, ...env, ARTIFACTD_TEST_POSTGRES_BIN: 'none' }, stdout: 'pipe', stderr: 'pipe' },
    );
    return { code: child.exitCode, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
  };

  test('prints one line, once, and answers null', () => {
    const { code, stdout, stderr } = probe({});
    expect(code).toBe(0);
    expect(stdout).toBe('null\nnull\n');
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^PostgreSQL tests skipped: no initdb found .*apt-get install postgresql/)]);
  });

  test('under CI it throws: a skipped PostgreSQL suite is a failure there', () => {
    const { code, stdout, stderr } = probe({ CI: 'true' });
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('CI is set, where a skip is a failure');
  });
});
