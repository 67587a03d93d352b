/**
 * The row counters (migration 2, src/store/postgres/schema-counters.ts): exact after concurrent
 * creates and deletes from two instances, after an import, after a
 * migration from version 1 over existing rows, after TRUNCATE and cascaded deletes; the count
 * routes and counts() read them; check() reports a counter that drifted.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import type { Numbered } from '../../../src/store/contract.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../src/store/postgres/migrations.ts';
import { BASE_SHARD, COUNTED_TABLES } from '../../../src/store/postgres/schema-counters.ts';
import { PostgresStore } from '../../../src/store/postgres/store.ts';
import { parseLine } from '../../../src/transfer/format.ts';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { newArtifact } from './artifacts-helpers.ts';

const url = await testDatabaseUrl();

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(prefix: string): Promise<string> {
  const fresh = await freshDatabase(prefix);
  cleanups.push(() => fresh.drop());
  return fresh.url;
}

async function open(databaseUrl: string, max = 4): Promise<PostgresStore> {
  const store = await PostgresStore.open(databaseUrl, { max });
  cleanups.push(() => store.close());
  return store;
}

/** Each table's count(*), by counts() names. */
async function actual(store: PostgresStore) {
  const [row] = await store.db.unsafe<Record<string, string>>(
    `SELECT (SELECT count(*) FROM artifact)::text AS artifacts, (SELECT count(*) FROM artifact_collection)::text AS collections,
            (SELECT count(*) FROM flow)::text AS flows, (SELECT count(*) FROM flow_run)::text AS flow_runs,
            (SELECT count(*) FROM task_run)::text AS task_runs, (SELECT count(*) FROM deployment)::text AS deployments,
            (SELECT count(*) FROM log)::text AS logs, (SELECT count(*) FROM event)::text AS events`,
  );
  return {
    artifacts: Number(row.artifacts),
    collections: Number(row.collections),
    flows: Number(row.flows),
    flowRuns: Number(row.flow_runs),
    taskRuns: Number(row.task_runs),
    deployments: Number(row.deployments),
    logs: Number(row.logs),
    events: Number(row.events),
  };
}

/** counts(), the two count routes and check() all agree with the tables. */
async function expectExact(store: PostgresStore) {
  const real = await actual(store);
  expect(await store.counts()).toEqual(real);
  const queries = store.artifacts.queries({ timeoutMs: 10_000, handOffMs: null });
  expect(await queries.run({ route: 'count', values: {}, limit: 0 } as never)).toBe(real.artifacts);
  expect(await queries.run({ route: 'latest/count', values: {}, limit: 0 } as never)).toBe(real.collections);
  expect(await store.check()).toEqual([]);
  return real;
}

async function importLines(store: PostgresStore, lines: object[], size: number) {
  const importer = store.transfer.importer();
  const items: Numbered[] = [];
  lines.forEach((line, i) => {
    const parsed = parseLine(JSON.stringify(line));
    if (parsed.ok && 'item' in parsed) items.push({ line: i + 1, item: parsed.item });
  });
  for (let i = 0; i < items.length; i += size) await importer.write(items.slice(i, i + size));
  await importer.finish();
}

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const time = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString().replace('Z', '001Z');
const artifactLine = (n: number, key: string | null, extra: Record<string, unknown> = {}) => ({
  kind: 'artifact',
  record: { id: ID(n), created: time(n), updated: time(n), key, type: 'markdown', description: null, data: n, metadata_: null, flow_run_id: null, task_run_id: null, ...extra },
});

describe.skipIf(url === null)('row counters', () => {
  test('the migration counts into one base row per table; each backend then writes its own row', async () => {
    const store = await open(await database('counters_rows'));
    const rows = () => store.db.unsafe<{ name: string; shard: number; n: string }>(`SELECT name, shard, n::text AS n FROM artifactd_counter ORDER BY name, shard`);
    expect(await rows()).toEqual(COUNTED_TABLES.map((name) => ({ name, shard: BASE_SHARD, n: '0' })));
    expect(await store.counts()).toEqual({ artifacts: 0, collections: 0, flows: 0, flowRuns: 0, taskRuns: 0, deployments: 0, logs: 0, events: 0 });
    // Two writers on two connections of one reserved pair: two rows, one per backend.
    const [c1, c2] = [await store.db.sql.reserve(), await store.db.sql.reserve()];
    try {
      const [{ pid: p1 }] = await c1.unsafe('SELECT pg_backend_pid() AS pid');
      const [{ pid: p2 }] = await c2.unsafe('SELECT pg_backend_pid() AS pid');
      await c1.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('a1', 1, 1, '1'), ('a2', 1, 1, '1')`);
      await c2.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('a3', 1, 1, '1')`);
      await c2.unsafe(`DELETE FROM artifact WHERE id IN ('a1', 'a3')`);
      const mine = (await rows()).filter((r) => r.name === 'artifact' && r.shard !== BASE_SHARD);
      expect(mine).toEqual(
        [
          { name: 'artifact', shard: Number(p1), n: '2' },
          { name: 'artifact', shard: Number(p2), n: '-1' },
        ].sort((a, b) => a.shard - b.shard),
      );
    } finally {
      c1.release();
      c2.release();
    }
    expect(await expectExact(store)).toMatchObject({ artifacts: 1 });
  });

  test('compaction folds the rows of backends that are gone into the base row', async () => {
    const databaseUrl = await database('counters_compact');
    const store = await open(databaseUrl);
    const other = new Db(databaseUrl, { max: 3 });
    const writes = Array.from({ length: 9 }, (_, i) => other.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('o${i}', 1, 1, '1')`));
    await Promise.all(writes);
    await store.artifacts.create(newArtifact({ key: 'k' }));
    const liveRows = async () => Number((await store.db.unsafe<{ n: string }>(`SELECT count(*)::text AS n FROM artifactd_counter WHERE shard <> ${BASE_SHARD}`))[0].n);
    const before = await liveRows();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(await store.compactCounters()).toBe(0); // every writer is still connected
    await other.close();
    // The other pool's backends exit a moment after their connections close.
    let folded = 0;
    for (let i = 0; i < 50 && folded === 0; i++) {
      folded = await store.compactCounters();
      if (folded === 0) await Bun.sleep(100);
    }
    expect(folded).toBeGreaterThanOrEqual(1);
    expect(await liveRows()).toBe(before - folded);
    expect(await expectExact(store)).toMatchObject({ artifacts: 10, collections: 1 });
  });

  test('exact after concurrent creates, deletes and deleteMany from two instances, compaction running', async () => {
    const databaseUrl = await database('counters_conc');
    const [s1, s2] = [await open(databaseUrl, 8), await open(databaseUrl, 8)];
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    const shared: string[] = []; // ids any writer may delete (both instances race for them)
    const writer = async (store: PostgresStore, w: number) => {
      for (let i = 0; i < 60; i++) {
        const r = Math.random();
        if (r < 0.55 || shared.length < 4) {
          const key = r < 0.2 ? null : keys[(w + i) % keys.length];
          shared.push((await store.artifacts.create(newArtifact({ key, data: JSON.stringify({ w, i }) }))).id);
        } else if (r < 0.75) {
          // Not removed from `shared`: the other instance may delete the same id at once.
          await store.artifacts.delete(shared[Math.floor(Math.random() * shared.length)]);
        } else {
          const batch = Array.from({ length: 4 }, () => shared[Math.floor(Math.random() * shared.length)]);
          await store.artifacts.deleteMany(batch);
        }
      }
    };
    // Compaction running meanwhile (as at every instance's start) must not disturb them.
    let writing = true;
    const compacting = (async () => {
      while (writing) await Promise.all([s1.compactCounters(), s2.compactCounters()]);
    })();
    await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w % 2 === 0 ? s1 : s2, w)));
    writing = false;
    await compacting;
    const real = await expectExact(s1);
    expect(real.artifacts).toBeGreaterThan(0);
    expect(await s2.counts()).toEqual(real);
    // Retention-style: both instances delete the same (all) ids at once.
    const all = (await s1.db.unsafe<{ id: string }>('SELECT id FROM artifact')).map((r) => r.id);
    const [gone1, gone2] = await Promise.all([s1.artifacts.deleteMany(all), s2.artifacts.deleteMany([...all].reverse())]);
    expect(gone1.length + gone2.length).toBe(all.length);
    expect(await expectExact(s1)).toMatchObject({ artifacts: 0, collections: 0 });
  });

  test("exact after an import in batches, beside the store's own writes", async () => {
    const store = await open(await database('counters_import'));
    await store.artifacts.create(newArtifact({ key: 'k1' }));
    const lines = [
      ...Array.from({ length: 300 }, (_, i) => artifactLine(i + 1, i % 3 === 0 ? null : `k${i % 7}`)),
      artifactLine(1, 'k1', { data: 'other' }), // already imported: kept, not added
    ];
    await importLines(store, lines, 64);
    expect(await expectExact(store)).toMatchObject({ artifacts: 301, collections: 7 });
    // The same again: nothing added.
    await importLines(store, lines, 1000);
    expect(await expectExact(store)).toMatchObject({ artifacts: 301, collections: 7 });
  });

  test('exact after migrating from version 1 over existing rows', async () => {
    const databaseUrl = await database('counters_v1');
    const db = new Db(databaseUrl);
    cleanups.push(() => db.close());
    await migrate(db, MIGRATIONS.slice(0, 1));
    await db.unsafe(`INSERT INTO artifact (id, created, updated, data) SELECT 'a' || g, g, g, '1' FROM generate_series(1, 500) g`);
    await db.unsafe(`INSERT INTO artifact (id, created, updated, key, data) SELECT 'b' || g, g, g, 'k' || (g % 10), '1' FROM generate_series(1, 50) g`);
    await db.unsafe(
      `INSERT INTO artifact_collection (id, created, updated, key, latest_id, data)
       SELECT 'c' || k, 0, 0, 'k' || k, (SELECT id FROM artifact WHERE key = 'k' || k ORDER BY created DESC, id DESC LIMIT 1), '1'
       FROM generate_series(0, 9) k`,
    );
    await db.unsafe(`UPDATE artifact_collection c SET (created, updated, data) = (SELECT created, updated, data FROM artifact WHERE id = c.latest_id)`);
    expect(await migrate(db)).toEqual({ from: 1, to: SCHEMA_VERSION, applied: MIGRATIONS.slice(1).map((m) => m.version) });
    const store = await open(databaseUrl);
    expect(await expectExact(store)).toMatchObject({ artifacts: 550, collections: 10 });
    await store.artifacts.create(newArtifact({ key: 'new' }));
    await store.artifacts.delete('a1');
    expect(await expectExact(store)).toMatchObject({ artifacts: 550, collections: 11 });
  });

  test('flows, runs and deployments: creates, cascaded deletes, TRUNCATE, rollbacks', async () => {
    const store = await open(await database('counters_runs'));
    const flow = (await store.flows.create({ name: 'etl', tags: [] } as never)).record;
    const run = (await store.flowRuns.create({ flow_id: flow.id, idempotency_key: 'once' } as never)).record;
    await store.flowRuns.create({ flow_id: flow.id, idempotency_key: 'once' } as never); // the same run: nothing inserted
    await store.taskRuns.create({ flow_run_id: run.id, task_key: 't', dynamic_key: '0' } as never);
    await store.deployments.create({ name: 'd', flow_id: flow.id } as never);
    expect(await expectExact(store)).toEqual({ artifacts: 0, collections: 0, flows: 1, flowRuns: 1, taskRuns: 1, deployments: 1, logs: 0, events: 0 });
    expect(await store.flows.delete(flow.id)).toBe(true); // cascades to the run, its task run and the deployment
    expect(await expectExact(store)).toEqual({ artifacts: 0, collections: 0, flows: 0, flowRuns: 0, taskRuns: 0, deployments: 0, logs: 0, events: 0 });

    // A rolled-back transaction and a rolled-back savepoint count nothing.
    await store.artifacts.create(newArtifact({ key: 'k' }));
    await store.db
      .transaction(async (tx) => {
        await tx.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('x1', 1, 1, '1')`);
        throw new Error('roll back');
      })
      .catch(() => {});
    await store.db.transaction(async (tx) => {
      await tx.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('x2', 1, 1, '1')`);
      await tx.unsafe('SAVEPOINT s');
      await tx.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('x3', 1, 1, '1'), ('x4', 1, 1, '1')`);
      await tx.unsafe('ROLLBACK TO SAVEPOINT s');
      await tx.unsafe(`DELETE FROM artifact WHERE id = 'x2'`);
      await tx.unsafe(`INSERT INTO artifact (id, created, updated, data) VALUES ('x5', 1, 1, '1')`);
    });
    expect(await expectExact(store)).toMatchObject({ artifacts: 2, collections: 1 });

    await store.db.unsafe('TRUNCATE artifact, artifact_collection');
    expect(await expectExact(store)).toMatchObject({ artifacts: 0, collections: 0 });
    await store.artifacts.create(newArtifact({ key: 'k' }));
    expect(await expectExact(store)).toMatchObject({ artifacts: 1, collections: 1 });
  });

  test('a filtered count still counts rows; an unfiltered one reads the counters', async () => {
    const store = await open(await database('counters_filter'));
    for (let i = 0; i < 5; i++) await store.artifacts.create(newArtifact({ key: i < 3 ? 'k' : null, type: i % 2 ? 'table' : 'markdown' }));
    const queries = store.artifacts.queries({ timeoutMs: 10_000, handOffMs: null });
    const count = (route: string, values: object) => queries.run({ route, values, limit: 0 } as never);
    expect(await count('count', {})).toBe(5);
    expect(await count('count', { artifacts: {} })).toBe(5);
    expect(await count('count', { artifacts: { type: { any_: ['table'] } } })).toBe(2);
    expect(await count('count', { artifacts: { key: { exists_: true } } })).toBe(3);
    expect(await count('latest/count', { artifacts: {} })).toBe(1);
    // A wrong counter shows only where the counters answer: proof that they do.
    await store.db.unsafe(`UPDATE artifactd_counter SET n = n + 100 WHERE name = 'artifact' AND shard = ${BASE_SHARD}`);
    expect(await count('count', {})).toBe(105);
    expect(await count('count', { artifacts: { type: { any_: ['table'] } } })).toBe(2);
  });

  test('check() reports a tampered counter, and a missing one', async () => {
    const store = await open(await database('counters_check'));
    await store.artifacts.create(newArtifact({ key: 'k' }));
    expect(await store.check()).toEqual([]);
    await store.db.unsafe(`UPDATE artifactd_counter SET n = n + 2 WHERE name = 'artifact' AND shard = ${BASE_SHARD}`);
    expect(await store.check()).toEqual(['counters: artifact counts 3, the table holds 1']);
    await store.db.unsafe(`DELETE FROM artifactd_counter WHERE name = 'artifact_collection'`);
    expect(await store.check()).toEqual(['counters: artifact counts 3, the table holds 1', 'counters: artifact_collection has no counter rows (it holds 1)']);
    // A write after the rows went: its backend's row is made again (the rest stays missing, as check says).
    await store.artifacts.create(newArtifact({ key: 'k2' }));
    expect(await store.check()).toEqual(['counters: artifact counts 4, the table holds 2', 'counters: artifact_collection counts 1, the table holds 2']);
  });
});
