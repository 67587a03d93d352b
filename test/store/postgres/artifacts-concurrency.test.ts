/**
 * Several writers on shared keys through two pools (as two artifactd instances would be): every
 * key's collection must still name its newest version and mirror it, with no lost write and no
 * deadlock.
 */
import { describe, expect, test } from 'bun:test';
import { testDatabaseUrl } from '../../postgres/cluster.ts';
import { migratedDatabase, newArtifact } from './artifacts-helpers.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { PostgresArtifacts } from '../../../src/store/postgres/artifacts.ts';
import { checkStore } from '../../../src/store/postgres/check.ts';

const url = await testDatabaseUrl();

/** Two PostgresStores when the companions exist; else two PostgresArtifacts on two pools. */
async function twoInstances(fixtureUrl: string): Promise<{ a: PostgresArtifacts; b: PostgresArtifacts; close(): Promise<void> }> {
  try {
    const { PostgresStore } = await import('../../../src/store/postgres/store.ts');
    const s1 = await PostgresStore.open(fixtureUrl, { max: 8 });
    const s2 = await PostgresStore.open(fixtureUrl, { max: 8 });
    return { a: s1.artifacts, b: s2.artifacts, close: async () => void (await Promise.all([s1.close(), s2.close()])) };
  } catch (error) {
    if (!/Cannot find module|not found/i.test(String(error))) throw error;
    const d1 = new Db(fixtureUrl, { max: 8 });
    const d2 = new Db(fixtureUrl, { max: 8 });
    return { a: new PostgresArtifacts(d1), b: new PostgresArtifacts(d2), close: async () => void (await Promise.all([d1.close(), d2.close()])) };
  }
}

describe.skipIf(url === null)('concurrent writers on shared keys, two pools', () => {
  test('creates, patches and deletes keep every collection right', async () => {
    const f = await migratedDatabase('artifacts_conc');
    const { a, b, close } = await twoInstances(f.url);
    try {
      const keys = ['k0', 'k1', 'k2', 'k3'];
      const acknowledged = new Map<string, string>(); // id → data, for the surviving creates
      const deletedIds = new Set<string>();
      const writer = async (repo: PostgresArtifacts, w: number) => {
        const mine: string[] = [];
        for (let i = 0; i < 40; i++) {
          const key = keys[(w + i) % keys.length];
          const r = Math.random();
          if (r < 0.55 || mine.length === 0) {
            const data = JSON.stringify({ w, i });
            const rec = await repo.create(newArtifact({ key, data, type: `t${i % 3}`, flowRunId: crypto.randomUUID() }));
            acknowledged.set(rec.id, data);
            mine.push(rec.id);
          } else if (r < 0.8) {
            const id = mine[Math.floor(Math.random() * mine.length)];
            const data = JSON.stringify({ w, i, patched: true });
            if (await repo.update(id, { data, description: `p${w}.${i}` })) acknowledged.set(id, data);
          } else if (r < 0.93) {
            const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
            if (await repo.delete(id)) {
              acknowledged.delete(id);
              deletedIds.add(id);
            }
          } else {
            const batch = mine.splice(0, 3);
            const gone = await repo.deleteMany(batch);
            for (const g of gone) {
              acknowledged.delete(g.id);
              deletedIds.add(g.id);
            }
          }
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: 32 }, (_, w) => writer(w % 2 === 0 ? a : b, w)));
      const ms = performance.now() - started;
      expect(await checkStore(f.db)).toEqual([]);
      // Every acknowledged write is there, as acknowledged; every deleted one gone.
      const rows = await f.db.unsafe<{ id: string; data: string }>('SELECT id, data FROM artifact');
      const stored = new Map(rows.map((r) => [r.id, r.data]));
      for (const [id, data] of acknowledged) expect(stored.get(id)).toBe(data);
      for (const id of deletedIds) expect(stored.has(id)).toBe(false);
      expect(stored.size).toBe(acknowledged.size);
      console.log(`32 writers × 40 operations on 4 shared keys, two pools: ${Math.round(ms)} ms (${Math.round((32 * 40) / (ms / 1000))} ops/s)`);
    } finally {
      await close();
      await f.done();
    }
  });

  test('racing deletes of a key\'s newest versions fall back to the right one', async () => {
    const f = await migratedDatabase('artifacts_conc2');
    const { a, b, close } = await twoInstances(f.url);
    try {
      for (let round = 0; round < 5; round++) {
        const key = `race${round}`;
        const versions = [];
        for (let i = 0; i < 12; i++) versions.push(await (i % 2 ? a : b).create(newArtifact({ key, data: String(i) })));
        // Delete the newest eight from both instances at once (single deletes and one deleteMany).
        const doomed = versions.slice(4).reverse();
        await Promise.all([
          ...doomed.slice(0, 6).map((v, i) => (i % 2 ? a : b).delete(v.id)),
          a.deleteMany(doomed.slice(6).map((v) => v.id)),
          b.update(versions[3].id, { data: '"patched"' }),
        ]);
        expect(await checkStore(f.db)).toEqual([]);
        expect((await a.latestByKeyJson(key))!).toContain('"data":"patched"');
      }
    } finally {
      await close();
      await f.done();
    }
  });
});
