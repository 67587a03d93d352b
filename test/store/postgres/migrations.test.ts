import { describe, expect, test } from 'bun:test';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { DatabaseTooNewError, MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion, VERSION_TABLE } from '../../../src/store/postgres/migrations.ts';

const url = await testDatabaseUrl();

describe.skipIf(url === null)('migrations', () => {
  test('versions are 1, 2, 3, … and SCHEMA_VERSION is the last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  test('ten instances migrating at once apply each migration once', async () => {
    const fresh = await freshDatabase('migrate10');
    const dbs = Array.from({ length: 10 }, () => new Db(fresh.url, { max: 2 }));
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
      for (const r of results) expect(r.to).toBe(SCHEMA_VERSION);
      const rows = await dbs[0].unsafe<{ version: number }>(`SELECT version FROM ${VERSION_TABLE} ORDER BY version`);
      expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await schemaVersion(dbs[0])).toBe(SCHEMA_VERSION);
      // Again: nothing to do.
      expect((await migrate(dbs[1])).applied).toEqual([]);
      const [t] = await dbs[0].unsafe<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('artifact', 'artifact_collection', 'flow', 'flow_run', 'task_run', 'deployment', 'csrf_token')`);
      expect(Number(t.n)).toBe(7);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await fresh.drop();
    }
  });

  test('a later migration applies on top; a failing one leaves the version where it was', async () => {
    const fresh = await freshDatabase('migrate_more');
    const db = new Db(fresh.url);
    try {
      await migrate(db);
      const more = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, adds: 'a test table', sql: 'CREATE TABLE extra (x int); CREATE INDEX extra_x ON extra (x);' }];
      expect((await migrate(db, more)).applied).toEqual([SCHEMA_VERSION + 1]);
      const broken = [...more, { version: SCHEMA_VERSION + 2, adds: 'broken', sql: 'CREATE TABLE extra2 (x int); SELECT no_such_function();' }];
      await expect(migrate(db, broken)).rejects.toThrow();
      expect(await schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
      const [t] = await db.unsafe<{ t: string | null }>(`SELECT to_regclass('extra2')::text AS t`);
      expect(t.t).toBeNull();
    } finally {
      await db.close();
      await fresh.drop();
    }
  });

  test('a database newer than this binary is refused with a clear message', async () => {
    const fresh = await freshDatabase('migrate_newer');
    const db = new Db(fresh.url);
    try {
      await migrate(db);
      await db.unsafe(`INSERT INTO ${VERSION_TABLE} (version, adds) VALUES ($1, 'from the future')`, [SCHEMA_VERSION + 5]);
      const error = await migrate(db).catch((e) => e);
      expect(error).toBeInstanceOf(DatabaseTooNewError);
      expect(error.message).toContain(`version ${SCHEMA_VERSION + 5}`);
      expect(error.message).toContain('newer');
      expect(error.message).not.toContain(fresh.url);
      const { PostgresStore } = await import('../../../src/store/postgres/store.ts').catch(() => ({ PostgresStore: null }));
      if (PostgresStore) await expect(PostgresStore.open(fresh.url)).rejects.toBeInstanceOf(DatabaseTooNewError);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
