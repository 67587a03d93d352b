/**
 * PostgreSQL answers every artifact query as LMDB does: the same random artifacts (random keys
 * incl. none, types, run ids, `created` with ties) written to both stores with the same ids and
 * timestamps, then many random filters, sorts and pages compared answer for answer — the JSON of
 * every row in order (`updated` aside, which a PATCH takes from each store's own clock) and counts.
 * Then random PATCHes and deletes by id on both, and the comparison again.
 */
import { toPgText } from '../../../src/store/postgres/text.ts';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabaseUrl } from '../../postgres/cluster.ts';
import { migratedDatabase, type Fixture } from './artifacts-helpers.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { durably } from '../../../src/store/lmdb/durable.ts';
import { metadataText } from '../../../src/store/postgres/artifact-rows.ts';
import { checkStore } from '../../../src/store/postgres/check.ts';
import type { ArtifactRecord } from '../../../src/store/records.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../../src/schemas/filters.ts';
import { SORTS, type Sort } from '../../../src/schemas/artifacts.ts';

const url = await testDatabaseUrl();

/** A seeded generator, so a failure can be replayed (seed printed on failure). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const some = <T>(xs: readonly T[], max = 4): T[] => Array.from({ length: int(max + 1) }, () => pick(xs));
  return { next, int, pick, some, chance: (p: number) => next() < p };
}

const KEYS = [null, null, 'alpha', 'Alpha', 'ALPHA-2', 'al_pha', 'a%b', 'beta', 'beta_x', 'gamma', 'é-key', 'É-key', 'x\\y', 'zeta 🐢', 'Zeta', 'mu', 'nu'];
const TYPES = [null, 'markdown', 'table', 'Table', 'link', 'progress', 'image'];
const FLOW_RUNS = [null, ...Array.from({ length: 6 }, () => crypto.randomUUID())];
const TASK_RUNS = [null, ...Array.from({ length: 8 }, () => crypto.randomUUID())];
const LIKES = ['al', 'AL', 'a', '%', '_', '', 'a_p', 'a%b', 'al%2', '\\', 'é', 'É', 'KEY', 'ta_x', 'zeta', '🐢', 'nope', '_e_', '%-%'];

const SEED = Number(process.env.DIFF_SEED ?? Date.now() % 1_000_000);

describe.skipIf(url === null)(`PostgreSQL answers as LMDB (seed ${SEED})`, () => {
  const r = rng(SEED);
  let f: Fixture;
  let lmdb: LmdbStore;
  let dir: string;
  let ids: string[] = [];

  beforeAll(async () => {
    f = await migratedDatabase('artifacts_diff');
    dir = mkdtempSync(join(tmpdir(), 'artifactd-diff-'));
    lmdb = LmdbStore.open(dir);
    const base = 1_700_000_000_000_000;
    const records: ArtifactRecord[] = [];
    for (let i = 0; i < 500; i++) {
      const created = base + r.int(120) * 1000 + (r.chance(0.3) ? 0 : r.int(1000)); // many ties
      records.push({
        id: crypto.randomUUID(),
        created,
        updated: created + r.int(3) * 7,
        key: r.pick(KEYS),
        type: r.pick(TYPES),
        description: r.chance(0.5) ? null : `d${i}`,
        data: r.pick(['null', '1', `{"i":${i},"b":12345678901234567890}`, '"s"', '[1.0,2]']),
        metadata: r.chance(0.6) ? null : { n: String(i), a: 'x' },
        flowRunId: r.pick(FLOW_RUNS),
        taskRunId: r.pick(TASK_RUNS),
      });
    }
    ids = records.map((x) => x.id);
    // Each key's collection: one id and `created` for both stores.
    const identities = new Map<string, { id: string; created: number }>();
    for (const k of KEYS) if (k !== null) identities.set(k, { id: crypto.randomUUID(), created: base - r.int(1000) });
    await durably(lmdb.dbs.env, () => {
      for (const rec of records) lmdb.artifacts.putImported(rec, rec.key === null ? undefined : identities.get(rec.key));
    });
    for (const rec of records) {
      await f.db.unsafe(
        `INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
        // Text columns as the store writes them (postgres/text.ts).
        [rec.id, rec.created, rec.updated, toPgText(rec.key), toPgText(rec.type), toPgText(rec.description), rec.data, metadataText(rec.metadata), rec.flowRunId, rec.taskRunId],
      );
    }
    // Collections as `putImported` leaves them: the key's identity, its newest version's fields and `updated`.
    for (const [key, identity] of identities) {
      await f.db.unsafe(
        `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
         SELECT $1, $2, updated, key, id, type, description, data, metadata_, flow_run_id, task_run_id
         FROM artifact WHERE key = $3 ORDER BY created DESC, id DESC LIMIT 1`,
        [identity.id, identity.created, toPgText(key)],
      );
    }
    expect(await checkStore(f.db)).toEqual([]);
    expect(lmdb.check()).toEqual([]);
  });

  afterAll(async () => {
    await lmdb?.close();
    rmSync(dir, { recursive: true, force: true });
    await f?.done();
  });

  const ids_ = () => (r.chance(0.15) ? [] : [...r.some(ids, 6), ...(r.chance(0.2) ? [crypto.randomUUID()] : [])]);
  const nullable = <T>(make: () => T): T | null | undefined => (r.chance(0.1) ? null : r.chance(0.5) ? undefined : make());

  function keyFilter() {
    const out: Record<string, unknown> = {};
    if (r.chance(0.4)) out.any_ = r.chance(0.1) ? [] : r.some(KEYS.filter((k) => k !== null) as string[], 3);
    if (r.chance(0.5)) out.like_ = r.pick(LIKES);
    if (r.chance(0.3)) out.exists_ = r.chance(0.5);
    return out;
  }
  function typeFilter() {
    const out: Record<string, unknown> = {};
    const types = TYPES.filter((t) => t !== null) as string[];
    if (r.chance(0.5)) out.any_ = r.chance(0.1) ? [] : r.some(types, 3);
    if (r.chance(0.5)) out.not_any_ = r.chance(0.15) ? [] : r.some(types, 2);
    return out;
  }
  const runIds = (pool: (string | null)[]) => ({ any_: r.chance(0.1) ? [] : r.some(pool.filter((x) => x !== null) as string[], 3) });

  function artifactFilter(): ArtifactFilter | null {
    if (r.chance(0.08)) return null;
    const out: Record<string, unknown> = {};
    if (r.chance(0.4)) out.operator = r.pick(['and_', 'or_']);
    if (r.chance(0.15)) out.id = nullable(() => ({ any_: ids_() }));
    if (r.chance(0.6)) out.key = nullable(keyFilter);
    if (r.chance(0.3)) out.flow_run_id = nullable(() => runIds(FLOW_RUNS));
    if (r.chance(0.3)) out.task_run_id = nullable(() => runIds(TASK_RUNS));
    if (r.chance(0.5)) out.type = nullable(typeFilter);
    return out as ArtifactFilter;
  }

  function collectionFilter(): ArtifactCollectionFilter | null {
    const a = artifactFilter() as Record<string, unknown> | null;
    if (a === null) return null;
    if ('id' in a) {
      const latestIds = a.id;
      delete a.id;
      a.latest_id = latestIds;
    }
    return a as ArtifactCollectionFilter;
  }

  const noUpdated = (json: string) => json.replace(/"updated":"[^"]*",/, '');

  async function compareMany(rounds: number) {
    const queries = f.artifacts.queries({ timeoutMs: 10_000, handOffMs: null });
    for (let i = 0; i < rounds; i++) {
      const sort: Sort = r.pick(SORTS);
      const page = { offset: r.chance(0.5) ? 0 : r.int(60), limit: 1 + r.int(r.chance(0.3) ? 600 : 40) };
      const af = artifactFilter();
      const cf = collectionFilter();
      const what = JSON.stringify({ i, sort, page, af, cf });
      const lA = lmdb.artifacts.findJson(af, sort, page).map(noUpdated);
      const pA = (await f.artifacts.findJson(af, sort, page)).map(noUpdated);
      expect({ what, rows: pA }).toEqual({ what, rows: lA });
      const lC = lmdb.artifacts.findLatestJson(cf, sort, page).map(noUpdated);
      const pC = (await f.artifacts.findLatestJson(cf, sort, page)).map(noUpdated);
      expect({ what, rows: pC }).toEqual({ what, rows: lC });
      expect({ what, n: await queries.run({ route: 'count', values: { artifacts: af ?? undefined }, limit: 0 }) }).toEqual({ what, n: lmdb.artifacts.count(af) });
      expect({ what, n: await queries.run({ route: 'latest/count', values: { artifacts: cf ?? undefined }, limit: 0 }) }).toEqual({ what, n: lmdb.artifacts.countLatest(cf) });
      if (i % 10 === 0) {
        const viaRoute = (await queries.run({ route: 'filter', values: { artifacts: af, sort, offset: page.offset }, limit: page.limit })) as string[];
        expect(viaRoute.map(noUpdated)).toEqual(lA);
        const viaLatest = (await queries.run({ route: 'latest/filter', values: { artifacts: cf, sort, offset: page.offset }, limit: page.limit })) as string[];
        expect(viaLatest.map(noUpdated)).toEqual(lC);
      }
    }
  }

  test('random filters, sorts and pages: the same rows in the same order, the same counts', async () => {
    await compareMany(400);
  });

  test('after random PATCHes and deletes on both: still the same', async () => {
    for (let i = 0; i < 120; i++) {
      const id = r.pick(ids);
      if (r.chance(0.6)) {
        const patch = r.chance(0.5) ? { data: `{"patched":${i}}` } : { description: `p${i}`, metadata: r.chance(0.5) ? null : { p: String(i) } };
        expect(await f.artifacts.update(id, patch)).toBe(await lmdb.artifacts.update(id, patch));
      } else if (r.chance(0.8)) {
        expect(await f.artifacts.delete(id)).toBe(await lmdb.artifacts.delete(id));
      } else {
        const batch = r.some(ids, 5);
        const spare = (rec: ArtifactRecord, latest: boolean) => latest && rec.type === 'table';
        const [pg, lm] = [await f.artifacts.deleteMany(batch, spare), await lmdb.artifacts.deleteMany(batch, spare)];
        expect(pg.map((x) => x.id)).toEqual(lm.map((x) => x.id));
      }
    }
    expect(await checkStore(f.db)).toEqual([]);
    expect(lmdb.check()).toEqual([]);
    await compareMany(250);
  });
});
