import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { testDatabaseUrl } from '../../postgres/cluster.ts';
import { migratedDatabase, newArtifact, type Fixture } from './artifacts-helpers.ts';
import { checkStore } from '../../../src/store/postgres/check.ts';
import { QueryDeadlineError } from '../../../src/store/errors.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { PostgresArtifacts } from '../../../src/store/postgres/artifacts.ts';
import type { ArtifactRecord } from '../../../src/store/records.ts';

const url = await testDatabaseUrl();

describe.skipIf(url === null)('PostgresArtifacts', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await migratedDatabase('artifacts');
  });
  afterAll(async () => {
    await f.done();
  });

  test('data and metadata_ come back byte for byte', async () => {
    const data =
      '{"big":12345678901234567890123,"past53":9007199254740993,"past63":9223372036854775809,"f":100.0,' +
      '"e":1E+400,"z":{"b":1,"a":2,"1":3},"u":"żółw 🐢 \\u0000 \\ud83d\\udc22","esc":"\\"\\\\\\/\\b\\f\\n\\r\\t","neg":-0.0 }';
    const metadata = { b: 'x\u0000y', a: 'ünïcødé 🐢', '2': 'two' };
    const r = await f.artifacts.create(newArtifact({ key: 'exact', data, metadata, description: 'dé\u0001scription' }));
    const got = await f.artifacts.get(r.id);
    expect(got!.data).toBe(data);
    expect(got!.metadata).toEqual(metadata);
    expect(JSON.stringify(got!.metadata)).toBe(JSON.stringify(metadata));
    const json = (await f.artifacts.getJson(r.id))!;
    expect(json).toContain(`"data":${data},`);
    expect(json).toContain(`"metadata_":${JSON.stringify(metadata)},`);
    const latest = (await f.artifacts.latestByKeyJson('exact'))!;
    expect(latest).toContain(`"data":${data},`);
    expect(latest).not.toContain('latest_id');
    const [raw] = await f.db.unsafe<{ data: string }>('SELECT data FROM artifact WHERE id = $1', [r.id]);
    expect(raw.data).toBe(data);
  });

  test('a key\'s collection follows its newest version: create, patch, delete, fall back', async () => {
    const a = await f.artifacts.create(newArtifact({ key: 'k1', type: 'markdown', data: '"a"' }));
    const b = await f.artifacts.create(newArtifact({ key: 'k1', type: 'table', data: '"b"', flowRunId: crypto.randomUUID() }));
    expect(b.created).toBeGreaterThan(a.created);
    expect(await f.artifacts.isLatest(b)).toBe(true);
    expect(await f.artifacts.isLatest(a)).toBe(false);
    const [col1] = await f.db.unsafe<{ id: string; created: string; latest_id: string; type: string }>('SELECT * FROM artifact_collection WHERE key = $1', ['k1']);
    expect(col1.latest_id).toBe(b.id);
    expect(Number(col1.created)).toBe(a.created); // the collection keeps its created
    expect(col1.type).toBe('table');

    // A PATCH of an older version is not mirrored; of the latest, it is.
    expect(await f.artifacts.update(a.id, { data: '"a2"' })).toBe(true);
    expect((await f.artifacts.latestByKeyJson('k1'))!).toContain('"data":"b"');
    expect(await f.artifacts.update(b.id, { data: '"b2"', description: 'desc', metadata: { m: '1' } })).toBe(true);
    const latest = (await f.artifacts.latestByKeyJson('k1'))!;
    expect(latest).toContain('"description":"desc","data":"b2","metadata_":{"m":"1"}');
    expect(await f.artifacts.update(crypto.randomUUID(), { data: '1' })).toBe(false);

    // Deleting the latest hands the collection to the next newest, its own timestamps included.
    expect(await f.artifacts.delete(b.id)).toBe(true);
    const a2 = (await f.artifacts.get(a.id))!;
    const [col2] = await f.db.unsafe<{ id: string; created: string; updated: string; latest_id: string; data: string }>('SELECT * FROM artifact_collection WHERE key = $1', ['k1']);
    expect(col2).toMatchObject({ id: col1.id, latest_id: a.id, data: '"a2"' });
    expect(Number(col2.created)).toBe(a2.created);
    expect(Number(col2.updated)).toBe(a2.updated);
    expect(await f.artifacts.delete(b.id)).toBe(false);
    expect(await f.artifacts.delete(a.id)).toBe(true);
    expect(await f.artifacts.latestByKeyJson('k1')).toBeUndefined();
    expect(await checkStore(f.db)).toEqual([]);
  });

  test('keyless artifacts have no collection', async () => {
    const r = await f.artifacts.create(newArtifact({ data: '[1,2]' }));
    expect(await f.artifacts.isLatest(r)).toBe(false);
    expect(await f.artifacts.update(r.id, { description: null })).toBe(true);
    expect((await f.artifacts.getJson(r.id))!).toContain('"key":null,');
    expect(await f.artifacts.delete(r.id)).toBe(true);
    expect(await f.artifacts.get(r.id)).toBeUndefined();
  });

  test('deleteMany asks spare in order, with isLatest as the deletions so far leave it', async () => {
    const v: ArtifactRecord[] = [];
    for (let i = 0; i < 4; i++) v.push(await f.artifacts.create(newArtifact({ key: 'dm', data: String(i) })));
    const other = await f.artifacts.create(newArtifact({ key: 'dm2', data: '"x"' }));
    const asked: [string, boolean][] = [];
    // Newest first: v3 (latest) deleted, then v2 is latest and spared; v1, v0 deleted; other spared as latest.
    const deleted = await f.artifacts.deleteMany([v[3].id, v[2].id, v[1].id, v[0].id, other.id, crypto.randomUUID()], (record, isLatest) => {
      asked.push([record.id, isLatest]);
      return isLatest && record.id !== v[3].id;
    });
    expect(asked).toEqual([[v[3].id, true], [v[2].id, true], [v[1].id, false], [v[0].id, false], [other.id, true]]);
    expect(deleted.map((r) => r.id)).toEqual([v[3].id, v[1].id, v[0].id]);
    expect((await f.artifacts.latestByKeyJson('dm'))!).toContain('"data":2,');
    expect(await checkStore(f.db)).toEqual([]);
    expect(await f.artifacts.deleteMany([v[2].id, other.id])).toHaveLength(2);
    expect(await f.artifacts.latestByKeyJson('dm')).toBeUndefined();
    expect(await checkStore(f.db)).toEqual([]);
  });

  test('createdBefore pages oldest first', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await f.artifacts.create(newArtifact({ type: 'cb' })));
    const cutoff = made[4].created;
    const all = [];
    let after: { created: number; id: string } | undefined;
    for (;;) {
      const batch = await f.artifacts.createdBefore(cutoff, 2, after);
      if (batch.length === 0) break;
      all.push(...batch);
      after = batch[batch.length - 1];
    }
    const ids = all.map((r) => r.id);
    for (const r of made.slice(0, 4)) expect(ids).toContain(r.id);
    expect(ids).not.toContain(made[4].id);
    const sorted = [...all].sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
    expect(all).toEqual(sorted);
  });

  // The timeouts are far from both the slow statement and the quick ones, so a busy machine
  // (a quick count taking 100 ms) cannot fail the test either way.
  test('a query past its statement timeout rejects with QueryDeadlineError', async () => {
    const queries = f.artifacts.queries({ timeoutMs: 1_000, handOffMs: null });
    // A slow statement: sleep in the run condition is not possible from a filter, so time it directly.
    const { withStatementTimeout } = await import('../../../src/store/postgres/db.ts');
    await expect(withStatementTimeout(f.db, 1_000, (tx) => tx.unsafe('SELECT pg_sleep(3)'))).rejects.toBeInstanceOf(QueryDeadlineError);
    // And the queries answer normally within it.
    expect(typeof (await queries.run({ route: 'count', values: {}, limit: 0 }))).toBe('number');
    // With the pool's own timeout (no transaction).
    const db2 = new Db(f.url, { statementTimeoutMs: 1_000 });
    try {
      await expect(db2.unsafe('SELECT pg_sleep(3)')).rejects.toBeInstanceOf(QueryDeadlineError);
      const q2 = new PostgresArtifacts(db2).queries({ timeoutMs: 1_000, handOffMs: null });
      expect(await q2.run({ route: 'latest/count', values: {}, limit: 0 })).toBeGreaterThanOrEqual(0);
    } finally {
      await db2.close();
    }
  });
});
