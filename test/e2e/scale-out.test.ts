/**
 * Several artifactd processes on one PostgreSQL database (issue 13, items 6 and 7), as real
 * processes (`bun src/main.ts`, or ARTIFACTD_BIN):
 *
 * - two instances started at once on a fresh database (both migrate it), 32 concurrent writers
 *   against EACH on a handful of shared keys: creates, PATCHes and DELETEs (many of them of the
 *   key's latest version), a bounded number of operations, one operation per artifact at a time
 *   so that the expected state is exact; then `artifactd check --database-url` exits 0, every
 *   acknowledged write is there, and each key's `/latest` on BOTH instances is its newest
 *   remaining version by (created, id), mirroring that version's (PATCHed) data;
 * - a CSRF token one instance issued is accepted by the other (tokens live in the database);
 * - `serve --retention` on two instances at once: each version goes once, only old versions that
 *   are not their key's latest, and check passes;
 * - SIGKILL of an instance under load loses no acknowledged write (scripts/crash.ts with
 *   `databaseUrl`, the harness behind `npm run crash -- --database-url URL`).
 *
 * Ten instances migrating at once is test/store/postgres/migrations.test.ts ("ten instances
 * migrating at once apply each migration once"); here two processes race on a fresh database.
 *
 * Everything listens on 127.0.0.1; every loop is bounded.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQL } from 'bun';
import { crashCycles, killChildren, runCheck, startServer, type ServerProcess } from '../../scripts/crash.ts';
import { freshDatabase, testDatabaseUrl } from '../postgres/cluster.ts';
import { COMMAND } from './process.ts';

const url = await testDatabaseUrl();

const work = mkdtempSync(join(tmpdir(), 'artifactd-scale-out-'));
const servers: ServerProcess[] = [];
const databases: { drop(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  killChildren();
});
afterAll(async () => {
  for (const db of databases.splice(0)) await db.drop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

async function database(prefix: string) {
  const db = await freshDatabase(prefix);
  databases.push(db);
  return db;
}

async function instance(databaseUrl: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer(COMMAND, work, ['--database-url', databaseUrl], extra, env);
  servers.push(server);
  return server;
}

interface Reply {
  status: number;
  body: any;
}

/** One request; a failure to get an answer is status 0 with the error as body. */
async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  try {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

/** `created` as printed (UTC, `Z`, 0 or 6 fraction digits) → µs. */
function micros(created: string): number {
  const match = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(created);
  if (!match) throw new Error(`unexpected created ${created}`);
  return Date.parse(`${match[1]}Z`) * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
}

/** The server's order of a key's versions: created DESC, then id DESC (bytewise, as collation C and LMDB compare). */
const newestFirst = (a: { created: string; id: string }, b: { created: string; id: string }) =>
  micros(b.created) - micros(a.created) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Every artifact, paged by id. */
async function scan(base: string): Promise<any[]> {
  const all: any[] = [];
  for (let page = 0; page < 1000; page++) {
    const reply = await call(base, 'POST', '/artifacts/filter', { sort: 'ID_DESC', limit: 200, offset: page * 200 });
    if (reply.status !== 200) throw new Error(`filter answered ${reply.status} ${JSON.stringify(reply.body)}`);
    all.push(...reply.body);
    if (reply.body.length < 200) return all;
  }
  throw new Error('more than 1000 pages');
}

async function checkDatabase(databaseUrl: string) {
  const result = await runCheck(COMMAND, work, ['--database-url', databaseUrl]);
  let parsed: any;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    parsed = { ok: false, findings: [`not JSON: ${result.stdout} ${result.stderr}`] };
  }
  return { status: result.status, ...parsed } as { status: number | null; ok: boolean; findings: string[]; counts: { artifacts: number } };
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j)));
}

describe.skipIf(url === null)('several instances on one PostgreSQL database', () => {
  test('32 writers against each of two instances on shared keys: check passes, every acknowledged write is there, latest agrees on both', async () => {
    const db = await database('scale_out');
    // Both start at once on the fresh database: both migrate it (under the advisory lock).
    const [a, b] = await Promise.all([instance(db.url, ['--log-level', 'warning']), instance(db.url, ['--log-level', 'warning'])]);
    const instances = [a, b];

    const KEYS = ['s0', 's1', 's2', 's3', 's4'];
    const WRITERS_PER_INSTANCE = 32;
    const OPS_PER_WRITER = 14;

    interface Tracked {
      id: string;
      key: string | null;
      data: unknown;
      created: string;
      busy: boolean;
    }
    const live = new Map<string, Tracked>();
    const deleted: Tracked[] = [];
    const failures: string[] = [];
    const tally = { creates: 0, patches: 0, deletes: 0, patchesOfLatest: 0, deletesOfLatest: 0 };
    let seed = 1;
    const rnd = () => {
      // mulberry32: the same operations on every run
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)];

    /** The key's newest known version (by the order the server keeps), if it is free; else any free artifact. */
    const target = (): { t: Tracked; latest: boolean } | undefined => {
      if (rnd() < 0.6) {
        const key = pick(KEYS);
        const versions = [...live.values()].filter((t) => t.key === key).sort(newestFirst);
        if (versions.length > 0 && !versions[0].busy) return { t: versions[0], latest: true };
      }
      const free = [...live.values()].filter((t) => !t.busy);
      return free.length === 0 ? undefined : { t: pick(free), latest: false };
    };

    const writer = async (server: ServerProcess, w: number) => {
      for (let n = 0; n < OPS_PER_WRITER; n++) {
        const r = rnd();
        const chosen = r < 0.4 ? undefined : target();
        if (chosen === undefined) {
          const key = rnd() < 0.1 ? null : pick(KEYS);
          const data = { token: `c-${w}-${n}`, n: Math.floor(rnd() * 1e6) };
          const reply = await call(server.base, 'POST', '/artifacts/', { key, type: 'markdown', data });
          if (reply.status === 201 && typeof reply.body?.id === 'string') {
            live.set(reply.body.id, { id: reply.body.id, key, data, created: reply.body.created, busy: false });
            tally.creates++;
          } else failures.push(`create on ${server.base}: ${reply.status} ${JSON.stringify(reply.body)}`);
          continue;
        }
        const { t, latest } = chosen;
        t.busy = true;
        if (r < 0.75) {
          const data = { token: `p-${w}-${n}`, list: [n, 'x', null] };
          const reply = await call(server.base, 'PATCH', `/artifacts/${t.id}`, { data });
          t.busy = false;
          if (reply.status === 204) {
            t.data = data;
            tally.patches++;
            if (latest) tally.patchesOfLatest++;
          } else failures.push(`PATCH ${t.id} on ${server.base}: ${reply.status} ${JSON.stringify(reply.body)}`);
        } else {
          const reply = await call(server.base, 'DELETE', `/artifacts/${t.id}`);
          if (reply.status === 204) {
            live.delete(t.id);
            deleted.push(t);
            tally.deletes++;
            if (latest) tally.deletesOfLatest++;
          } else {
            t.busy = false;
            failures.push(`DELETE ${t.id} on ${server.base}: ${reply.status} ${JSON.stringify(reply.body)}`);
          }
        }
      }
    };

    const started = performance.now();
    await Promise.all(instances.flatMap((server, i) => Array.from({ length: WRITERS_PER_INSTANCE }, (_, w) => writer(server, i * 100 + w))));
    const loadMs = Math.round(performance.now() - started);
    expect(failures).toEqual([]);
    const ops = tally.creates + tally.patches + tally.deletes;
    expect(ops).toBe(2 * WRITERS_PER_INSTANCE * OPS_PER_WRITER);
    expect(tally.patchesOfLatest).toBeGreaterThan(10);
    expect(tally.deletesOfLatest).toBeGreaterThan(5);
    console.log(`scale-out: ${ops} operations by ${2 * WRITERS_PER_INSTANCE} writers on two instances in ${loadMs} ms (${JSON.stringify(tally)})`);

    // The invariant checker, a third process on the database.
    const checked = await checkDatabase(db.url);
    expect(checked.findings).toEqual([]);
    expect(checked.ok).toBe(true);
    expect(checked.status).toBe(0);
    expect(checked.counts.artifacts).toBe(live.size);

    // Every acknowledged create reads back with its last acknowledged data, from either instance;
    // every acknowledged delete is gone.
    const wrong: string[] = [];
    await inBatches([...live.values()], 16, async (t, i) => {
      const reply = await call(instances[i % 2].base, 'GET', `/artifacts/${t.id}`);
      if (reply.status !== 200 || reply.body.key !== t.key || !Bun.deepEquals(reply.body.data, t.data)) {
        wrong.push(`${t.id}: ${reply.status} ${JSON.stringify(reply.body)}, expected key ${t.key} data ${JSON.stringify(t.data)}`);
      }
    });
    await inBatches(deleted, 16, async (t, i) => {
      const reply = await call(instances[i % 2].base, 'GET', `/artifacts/${t.id}`);
      if (reply.status !== 404) wrong.push(`${t.id} was deleted, GET answered ${reply.status}`);
    });
    expect(wrong).toEqual([]);

    // The store holds exactly those, no more.
    const scanned = await scan(a.base);
    expect(scanned.map((x) => x.id).sort()).toEqual([...live.keys()].sort());
    for (const x of scanned) live.get(x.id)!.created = x.created;

    // Each key's latest: its newest remaining version, the same on both instances, mirroring its data.
    for (const key of KEYS) {
      const versions = [...live.values()].filter((t) => t.key === key).sort(newestFirst);
      for (const server of instances) {
        const [latest, collections, newest] = await Promise.all([
          call(server.base, 'GET', `/artifacts/${key}/latest`),
          call(server.base, 'POST', '/artifacts/latest/filter', { artifacts: { key: { any_: [key] } } }),
          call(server.base, 'POST', '/artifacts/filter', { artifacts: { key: { any_: [key] } }, sort: 'CREATED_DESC', limit: 1 }),
        ]);
        if (versions.length === 0) {
          expect(latest.status).toBe(404);
          expect(collections.body).toEqual([]);
          continue;
        }
        const head = versions[0];
        // `/{key}/latest` answers the key's collection row as Prefect does (its own id, the
        // latest version's fields); `/latest/filter` names the version in `latest_id`. Every
        // write's data is unique, so equal data is the same version in its last written state.
        expect({ key, status: latest.status, data: latest.body.data }).toEqual({ key, status: 200, data: head.data });
        expect(collections.body.map((c: any) => ({ id: c.id, latest_id: c.latest_id, data: c.data }))).toEqual([{ id: latest.body.id, latest_id: head.id, data: head.data }]);
        expect(newest.body.map((x: any) => x.id)).toEqual([head.id]);
      }
    }
    const latestCount = await call(b.base, 'POST', '/artifacts/latest/count', {});
    expect(latestCount.body).toBe(new Set([...live.values()].filter((t) => t.key !== null).map((t) => t.key)).size);
  }, 180_000);

  test('a CSRF token issued by one instance is accepted by the other', async () => {
    const db = await database('scale_out_csrf');
    const env = { PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED: 'true' };
    const a = await instance(db.url, ['--log-level', 'warning'], env);
    const b = await instance(db.url, ['--log-level', 'warning'], env);

    const issued = await call(a.base, 'GET', '/csrf-token?client=worker-1');
    expect(issued.status).toBe(200);
    expect(issued.body.client).toBe('worker-1');
    const headers = { 'prefect-csrf-token': issued.body.token, 'prefect-csrf-client': 'worker-1' };

    const created = await call(b.base, 'POST', '/artifacts/', { key: 'csrf', type: 'markdown', data: 'x' }, headers);
    expect(created.status).toBe(201);
    expect((await call(b.base, 'POST', '/artifacts/', { key: 'csrf', data: 'y' })).body).toEqual({ detail: 'Missing CSRF token.' });
    const wrongClient = await call(b.base, 'POST', '/artifacts/', { key: 'csrf', data: 'y' }, { ...headers, 'prefect-csrf-client': 'worker-2' });
    expect(wrongClient.status).toBe(403);
    expect(wrongClient.body).toEqual({ detail: 'Invalid CSRF token or client identifier.' });

    // And the other way round: a token B issued works on A.
    const fromB = await call(b.base, 'GET', '/csrf-token?client=worker-2');
    expect(fromB.status).toBe(200);
    const deleted = await call(a.base, 'DELETE', `/artifacts/${created.body.id}`, undefined, { 'prefect-csrf-token': fromB.body.token, 'prefect-csrf-client': 'worker-2' });
    expect(deleted.status).toBe(204);
  }, 60_000);

  test('retention on two instances at once: each old non-latest version goes once, latest versions and new ones stay, check passes', async () => {
    const db = await database('scale_out_retention');
    const seeder = await instance(db.url, ['--log-level', 'warning']);
    const KEYS = ['r0', 'r1', 'r2', 'r3'];
    const seeded: { id: string; key: string | null }[] = [];
    for (let v = 0; v < 20; v++) {
      for (const key of [...KEYS, null]) {
        const reply = await call(seeder.base, 'POST', '/artifacts/', { key, type: 'markdown', data: { v, key } });
        expect(reply.status).toBe(201);
        seeded.push({ id: reply.body.id, key });
      }
    }
    // The latest of r3 is edited: editing does not keep an old version alive, and the mirror must stay right.
    const r3Latest = seeded.filter((s) => s.key === 'r3').at(-1)!;
    expect((await call(seeder.base, 'PATCH', `/artifacts/${r3Latest.id}`, { data: 'edited' })).status).toBe(204);
    await seeder.stop();
    servers.splice(servers.indexOf(seeder), 1);

    // Age every seeded row by 100 days at once (orders and mirrors unchanged), so that no
    // assertion below depends on how fast this machine runs.
    const admin = new SQL(db.url);
    try {
      const shift = 100 * 86_400_000_000;
      await admin.begin(async (tx) => {
        await tx`UPDATE artifact SET created = created - ${shift}, updated = updated - ${shift}`;
        await tx`UPDATE artifact_collection SET created = created - ${shift}, updated = updated - ${shift}`;
      });
    } finally {
      await admin.close();
    }
    const before = await checkDatabase(db.url);
    expect(before.findings).toEqual([]);

    // Two instances with --retention 30d, started at once: each prunes at start (then hourly).
    const [a, b] = await Promise.all([instance(db.url, ['--retention', '30d']), instance(db.url, ['--retention', '30d'])]);
    // New versions of r0 and r1 while they prune: they are new, and become those keys' latest.
    const fresh: string[] = [];
    for (const key of ['r0', 'r1', 'r0', 'r1']) {
      const reply = await call(fresh.length % 2 === 0 ? a.base : b.base, 'POST', '/artifacts/', { key, type: 'markdown', data: `fresh ${key}` });
      expect(reply.status).toBe(201);
      fresh.push(reply.body.id);
    }
    const pruned = (s: ServerProcess) => [...s.output.matchAll(/retention pruned (\d+) artifact version/g)].map((m) => Number(m[1]));
    const deadline = Date.now() + 30_000;
    while ((pruned(a).length === 0 || pruned(b).length === 0) && Date.now() < deadline) await Bun.sleep(50);
    expect(a.output).not.toContain('retention run failed');
    expect(b.output).not.toContain('retention run failed');
    const [prunedA, prunedB] = [pruned(a), pruned(b)]; // before more request lines push them out of `output`
    expect(prunedA.length).toBeGreaterThan(0);
    expect(prunedB.length).toBeGreaterThan(0);

    // What must remain: the seeded latest of r2 and r3 (r0's and r1's are no longer latest once
    // the fresh versions exist, and go on a run after that — or stay when both ran before), and every fresh version.
    const seededLatest = new Map(KEYS.map((key) => [key, seeded.filter((s) => s.key === key).at(-1)!.id]));
    const survivors = new Set([seededLatest.get('r2')!, seededLatest.get('r3')!, ...fresh]);
    const remaining = (await scan(a.base)).map((x) => x.id);
    for (const id of remaining) {
      const allowed = survivors.has(id) || id === seededLatest.get('r0') || id === seededLatest.get('r1');
      expect({ id, allowed }).toEqual({ id, allowed: true });
    }
    for (const id of survivors) expect(remaining).toContain(id);
    // Each version went once: the two instances' counts add up to what is gone.
    const total = [...prunedA, ...prunedB].reduce((x, y) => x + y, 0);
    expect(total).toBe(seeded.length - (remaining.length - fresh.length));

    const latestOf = async (s: ServerProcess, key: string) => {
      const [latest, collections] = await Promise.all([
        call(s.base, 'GET', `/artifacts/${key}/latest`),
        call(s.base, 'POST', '/artifacts/latest/filter', { artifacts: { key: { any_: [key] } } }),
      ]);
      return { data: latest.body.data, latest_id: collections.body[0]?.latest_id };
    };
    for (const s of [a, b]) {
      expect(await latestOf(s, 'r3')).toEqual({ data: 'edited', latest_id: r3Latest.id });
      expect(await latestOf(s, 'r0')).toEqual({ data: 'fresh r0', latest_id: fresh[2] });
      expect(await latestOf(s, 'r1')).toEqual({ data: 'fresh r1', latest_id: fresh[3] });
    }
    const after = await checkDatabase(db.url);
    expect(after.findings).toEqual([]);
    expect(after.status).toBe(0);
    expect(after.counts.artifacts).toBe(remaining.length);
  }, 120_000);

  test('SIGKILL of an instance under load loses no acknowledged write (npm run crash -- --database-url)', async () => {
    const db = await database('scale_out_crash');
    const lines: string[] = [];
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    const summary = await crashCycles({ cycles: 2, command: COMMAND, seed, databaseUrl: db.url, log: (line) => lines.push(line), keepOnFailure: false });
    if (!summary.ok) console.error(`crash harness on PostgreSQL, seed ${seed}:\n${lines.join('\n')}`);
    else console.log(lines.join('\n'));
    expect(summary.violations).toEqual([]);
    expect(summary.cycles).toBe(2);
    expect(summary.createsAcknowledged).toBeGreaterThan(0);
    expect(summary.writesLost).toBe(0);
    expect(summary.writesFound).toBe(summary.writesAcknowledged);
    expect(summary.cycleReports.every((r) => r.checkOk)).toBe(true);
  }, 150_000);

  test('the crash harness on PostgreSQL is not vacuous: emptying the database between kill and restart is reported as lost writes', async () => {
    const db = await database('scale_out_crash_lost');
    const summary = await crashCycles({
      cycles: 1,
      command: COMMAND,
      seed: crypto.getRandomValues(new Uint32Array(1))[0],
      databaseUrl: db.url,
      killAfterMs: [1000, 1000],
      log: () => {},
      keepOnFailure: false,
      beforeRestart: async () => {
        const admin = new SQL(db.url);
        try {
          await admin`TRUNCATE artifact, artifact_collection`;
        } finally {
          await admin.close();
        }
      },
    });
    expect(summary.ok).toBe(false);
    expect(summary.createsAcknowledged).toBeGreaterThan(0);
    expect(summary.writesLost).toBeGreaterThan(0);
    expect(summary.violations.some((v) => v.includes('(lost write)'))).toBe(true);
  }, 120_000);
});
