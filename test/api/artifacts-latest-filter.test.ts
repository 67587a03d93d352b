/**
 * HTTP behaviour of POST /api/artifacts/latest/filter and POST /api/artifacts/latest/count: one
 * collection row per key carrying its newest version, every ArtifactCollectionFilter field, the
 * sorts on collections and the limit rules. Sources: shared/spec/artifacts-api.md §4.2, §6.1,
 * §6.3, §6.7, §6.8, §7, §12; filters.md §3, §8, §11; the recorded Prefect 3.0.0 exchanges.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { harness, type Harness, type Reply } from '../helpers.ts';
import { FILTER, FR1, FR2, LATEST_COUNT, LATEST_FILTER, SORT_EXPECTED, SORTS, TR1, TR2, sorted } from './artifact-routes.ts';
import { UUID_RE, extraForbidden } from './expect.ts';
import { COLLECTION_FIELDS } from './fields.ts';
import { describeBackends } from '../backends.ts';

function rows(reply: Reply): any[] {
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body;
}
/** A response datetime as µs since the epoch (the fraction is omitted when zero). */
function micros(datetime: string): number {
  expect(datetime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/);
  const fraction = datetime.length > 20 ? Number(datetime.slice(20, 26)) : 0;
  return (Date.parse(`${datetime.slice(0, 19)}Z`) / 1000) * 1_000_000 + fraction;
}
const keys = (reply: Reply) => rows(reply).map((r) => r.key);

function issues(reply: Reply, requestBody?: unknown): any[] {
  expect(reply.status).toBe(422);
  expect(reply.body.exception_message).toBe('Invalid request received.');
  if (requestBody !== undefined) expect(reply.body.request_body).toEqual(requestBody);
  return reply.body.exception_detail;
}

describeBackends('latest rows (/latest/filter, /latest/count)', (backend) => {
  describe('latest rows over a fixed data set', () => {
    let h: Harness;
    const a: Record<string, any> = {};
    const latest = (artifacts: unknown, extra: object = {}) => h.call('POST', LATEST_FILTER, { artifacts, ...extra });
    /** Checks /latest/filter returns exactly these keys and /latest/count their number. */
    async function expectKeys(artifacts: unknown, wanted: string[]) {
      expect(sorted(keys(await latest(artifacts)))).toEqual(sorted(wanted));
      const counted = await h.call('POST', LATEST_COUNT, { artifacts });
      expect(counted.status).toBe(200);
      expect(counted.text).toBe(String(wanted.length));
    }

    beforeAll(async () => {
      h = await harness({}, backend);
      const seed: [string, Record<string, unknown>][] = [
        ['alpha1', { key: 'alpha', type: 'table', flow_run_id: FR1, task_run_id: TR1, data: 'a1', description: 'first', metadata_: { v: '1' } }],
        ['beta1', { key: 'beta', type: 'result', data: { b: 1 }, flow_run_id: FR1 }],
        ['nokey1', { type: 'markdown', data: 'n1' }],
        ['alpha2', { key: 'alpha', type: 'markdown', flow_run_id: FR2, task_run_id: TR2, data: 'a2' }],
        ['gamma1', { key: 'gamma', data: 'g1' }],
        ['nokey2', { type: 'markdown', data: 'n2' }],
      ];
      for (const [name, body] of seed) a[name] = await h.create(body);
    });
    afterAll(async () => {
      await h.close();
    });

    test('one row per key with the newest data; keyless artifacts never appear', async () => {
      const got = rows(await h.call('POST', LATEST_FILTER, {}));
      expect(sorted(got.map((r) => r.key))).toEqual(['alpha', 'beta', 'gamma']);
      const alpha = got.find((r) => r.key === 'alpha');
      expect(alpha.latest_id).toBe(a.alpha2.id);
      expect(alpha.data).toBe('a2');
      expect(alpha.type).toBe('markdown');
      // A new version replaces every mirrored field, nulls included.
      expect(alpha.description).toBeNull();
      expect(alpha.metadata_).toBeNull();
      expect(alpha.flow_run_id).toBe(FR2);
      expect(alpha.task_run_id).toBe(TR2);
      expect(got.find((r) => r.key === 'beta').data).toEqual({ b: 1 });
      const ids = new Set(Object.values(a).map((x) => x.id));
      for (const row of got) expect(ids.has(row.latest_id)).toBe(true);
      expect((await h.call('POST', LATEST_COUNT, {})).body).toBe(3);
      expect((await h.call('POST', LATEST_COUNT)).text).toBe('3');
    });

    test('ArtifactCollection fields, in Prefect order', async () => {
      for (const row of rows(await h.call('POST', LATEST_FILTER, {}))) {
        expect(Object.keys(row)).toEqual(COLLECTION_FIELDS);
        expect(row.id).toMatch(UUID_RE);
        expect(row.latest_id).toMatch(UUID_RE);
      }
    });

    test("a collection has its own id, the first version's created and the newest version's updated", async () => {
      const alpha = rows(await latest({ key: { any_: ['alpha'] } }))[0];
      expect(Object.values(a).map((x) => x.id)).not.toContain(alpha.id);
      expect(alpha.created).toBe(a.alpha1.created);
      expect(alpha.updated).toBe(a.alpha2.created);
      // The same id on every read.
      expect(rows(await h.call('POST', LATEST_FILTER, {})).find((r) => r.key === 'alpha').id).toBe(alpha.id);
    });

    test('latest_id.any_ matches only the current latest version', async () => {
      await expectKeys({ latest_id: { any_: [a.alpha2.id] } }, ['alpha']);
      await expectKeys({ latest_id: { any_: [a.alpha2.id.toUpperCase(), a.gamma1.id] } }, ['alpha', 'gamma']);
      await expectKeys({ latest_id: { any_: [a.alpha1.id] } }, []);
      await expectKeys({ latest_id: { any_: [a.nokey1.id] } }, []);
      await expectKeys({ latest_id: { any_: [] } }, []);
    });

    test('key.any_ / like_ / exists_', async () => {
      await expectKeys({ key: { any_: ['alpha', 'gamma', 'nope'] } }, ['alpha', 'gamma']);
      await expectKeys({ key: { any_: ['ALPHA'] } }, []);
      await expectKeys({ key: { any_: [] } }, []);
      await expectKeys({ key: { like_: 'ALP' } }, ['alpha']);
      await expectKeys({ key: { like_: '_eta' } }, ['beta']);
      await expectKeys({ key: { like_: 'a%a' } }, ['alpha', 'gamma']);
      await expectKeys({ key: { like_: '' } }, ['alpha', 'beta', 'gamma']);
      await expectKeys({ key: { exists_: true } }, ['alpha', 'beta', 'gamma']);
      await expectKeys({ key: { exists_: false } }, []);
      await expectKeys({ key: {} }, ['alpha', 'beta', 'gamma']);
    });

    test('flow_run_id.any_ / task_run_id.any_ look at the latest version only', async () => {
      await expectKeys({ flow_run_id: { any_: [FR1] } }, ['beta']); // alpha's FR1 was its first version
      await expectKeys({ flow_run_id: { any_: [FR2] } }, ['alpha']);
      await expectKeys({ task_run_id: { any_: [TR1] } }, []);
      await expectKeys({ task_run_id: { any_: [TR2.toUpperCase()] } }, ['alpha']);
      await expectKeys({ flow_run_id: { any_: [] } }, []);
      // /filter still sees the old version with FR1.
      const all = rows(await h.call('POST', FILTER, { artifacts: { flow_run_id: { any_: [FR1] } } }));
      expect(sorted(all.map((r) => r.id))).toEqual(sorted([a.alpha1.id, a.beta1.id]));
    });

    test('type.any_ / not_any_ on the latest type (NULL excluded by not_any_)', async () => {
      await expectKeys({ type: { any_: ['table'] } }, []);
      await expectKeys({ type: { any_: ['markdown'] } }, ['alpha']);
      await expectKeys({ type: { any_: [] } }, []);
      await expectKeys({ type: { not_any_: ['markdown'] } }, ['beta']);
      await expectKeys({ type: { not_any_: [] } }, ['alpha', 'beta', 'gamma']);
    });

    test('operators and_ / or_', async () => {
      await expectKeys({ key: { like_: 'a' }, type: { any_: ['result'] } }, ['beta']);
      await expectKeys({ operator: 'or_', key: { any_: ['gamma'] }, type: { any_: ['result'] } }, ['gamma', 'beta']);
      await expectKeys({ operator: 'or_', key: {}, type: { any_: [] } }, ['alpha', 'beta', 'gamma']);
      await expectKeys({ operator: 'or_' }, ['alpha', 'beta', 'gamma']);
    });

    test('an id filter does not exist on collections → 422', async () => {
      const body = { artifacts: { id: { any_: [a.alpha2.id] } } };
      for (const route of [LATEST_FILTER, LATEST_COUNT]) {
        const detail = issues(await h.call('POST', route, body), body);
        expect(detail).toHaveLength(1);
        expect(detail[0]).toEqual(extraForbidden(['artifacts', 'id'], { any_: [a.alpha2.id] }));
      }
    });

    test('validation inside the collection filter', async () => {
      const extra = issues(await latest({ latest_id: { like_: 'x' } }));
      expect(extra[0].type).toBe('extra_forbidden');
      expect(extra[0].loc).toEqual(['body', 'artifacts', 'latest_id', 'like_']);
      const uuid = issues(await latest({ latest_id: { any_: ['nope'] } }));
      expect(uuid[0].type).toBe('uuid_parsing');
      expect(uuid[0].loc).toEqual(['body', 'artifacts', 'latest_id', 'any_', 0]);
      const op = issues(await latest({ key: { operator: 'and_' } }));
      expect(op[0].type).toBe('extra_forbidden');
      expect(op[0].loc).toEqual(['body', 'artifacts', 'key', 'operator']);
      const xor = issues(await h.call('POST', LATEST_COUNT, { artifacts: { operator: 'xor' } }));
      expect(xor[0].type).toBe('enum');
      const sort = issues(await h.call('POST', LATEST_FILTER, { sort: 'NOPE' }), { sort: 'NOPE' });
      expect(sort).toEqual([
        { type: 'enum', loc: ['body', 'sort'], msg: `Input should be ${SORT_EXPECTED}`, input: 'NOPE', ctx: { expected: SORT_EXPECTED } },
      ]);
    });

    test('embedded-body rules: null/absent/unknown keys, non-object body', async () => {
      expect(rows(await h.call('POST', LATEST_FILTER))).toHaveLength(3);
      expect(rows(await h.call('POST', LATEST_FILTER, 'null'))).toHaveLength(3);
      expect(rows(await h.call('POST', LATEST_FILTER, { sort: null, limit: null, offset: null, artifacts: null, x: 1 }))).toHaveLength(3);
      issues(await h.call('POST', LATEST_FILTER, '[]'));
      issues(await h.call('POST', LATEST_COUNT, '"x"'));
    });
  });

  describe('latest rows follow writes', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await harness({}, backend);
    });
    afterEach(async () => {
      await h.close();
    });
    const byKey = async (key: string) => rows(await h.call('POST', LATEST_FILTER, { artifacts: { key: { any_: [key] } } }));

    test('PATCH of the latest version shows in the collection; PATCH of an older one does not', async () => {
      const v1 = await h.create({ key: 'w', data: 'v1' });
      const v2 = await h.create({ key: 'w', data: 'v2' });
      const before = (await byKey('w'))[0];
      expect((await h.call('PATCH', `/api/artifacts/${v1.id}`, { data: 'old-patched' })).status).toBe(204);
      expect((await byKey('w'))[0]).toEqual(before);
      expect((await h.call('PATCH', `/api/artifacts/${v2.id}`, { data: 'new-patched', description: 'd' })).status).toBe(204);
      const after = (await byKey('w'))[0];
      expect(after.data).toBe('new-patched');
      expect(after.description).toBe('d');
      expect(after.id).toBe(before.id);
      expect(after.created).toBe(before.created);
      expect(micros(after.updated)).toBeGreaterThan(micros(before.updated));
    });

    test('deleting the latest version makes the previous one latest; deleting the last drops the key', async () => {
      const v1 = await h.create({ key: 'z', data: 'v1', type: 't1' });
      const v2 = await h.create({ key: 'z', data: 'v2', type: 't2' });
      const before = (await byKey('z'))[0];
      expect((await h.call('DELETE', `/api/artifacts/${v2.id}`)).status).toBe(204);
      const after = (await byKey('z'))[0];
      expect(after.id).toBe(before.id);
      expect(after.latest_id).toBe(v1.id);
      expect(after.data).toBe('v1');
      expect(after.type).toBe('t1');
      expect((await h.call('POST', LATEST_COUNT, { artifacts: { type: { any_: ['t2'] } } })).body).toBe(0);
      expect((await h.call('DELETE', `/api/artifacts/${v1.id}`)).status).toBe(204);
      expect(await byKey('z')).toEqual([]);
      expect((await h.call('POST', LATEST_COUNT, {})).body).toBe(0);
    });

    test('the empty key "" has a collection row', async () => {
      const art = await h.create({ key: '', data: 'e' });
      const got = rows(await h.call('POST', LATEST_FILTER, {}));
      expect(got).toHaveLength(1);
      expect(got[0].key).toBe('');
      expect(got[0].latest_id).toBe(art.id);
    });
  });

  describe('sorts on collections', () => {
    let h: Harness;
    const made: Record<string, any> = {};
    const order = async (sort?: string, artifacts?: unknown) =>
      keys(await h.call('POST', LATEST_FILTER, sort === undefined ? { artifacts } : { sort, artifacts }));

    beforeAll(async () => {
      h = await harness({}, backend);
      // First-seen order: p, q, r, p-1. Latest writes: q, r, p (v2), p-1.
      made.p1 = await h.create({ key: 'p', data: 'p1' });
      made.q1 = await h.create({ key: 'q', data: 'q1' });
      made.r1 = await h.create({ key: 'r', data: 'r1' });
      made.p2 = await h.create({ key: 'p', data: 'p2' });
      made.p_1 = await h.create({ key: 'p-1', data: 'p-1' });
      await h.create({ data: 'keyless' });
    });
    afterAll(async () => {
      await h.close();
    });

    test('CREATED_DESC orders by the first-seen time of the key', async () => {
      expect(await order('CREATED_DESC')).toEqual(['p-1', 'r', 'q', 'p']);
    });

    test('KEY_ASC / KEY_DESC ("p" before "p-1")', async () => {
      expect(await order('KEY_ASC')).toEqual(['p', 'p-1', 'q', 'r']);
      expect(await order('KEY_DESC')).toEqual(['r', 'q', 'p-1', 'p']);
    });

    test('ID_DESC (the default) orders by the collection id, not latest_id', async () => {
      const got = rows(await h.call('POST', LATEST_FILTER, { sort: 'ID_DESC' }));
      const ids = got.map((r) => r.id);
      expect(ids).toEqual([...ids].sort().reverse());
      expect(rows(await h.call('POST', LATEST_FILTER, {})).map((r) => r.id)).toEqual(ids);
      expect(rows(await h.call('POST', LATEST_FILTER)).map((r) => r.id)).toEqual(ids);
      for (const row of got) expect(row.id).not.toBe(row.latest_id);
    });

    test.each(SORTS)('%s: the same order when a filter narrows the candidates', async (sort) => {
      const full = await order(sort);
      expect(await order(sort, { key: { any_: ['r', 'p', 'q', 'p-1'] } })).toEqual(full);
      const latestIds = [made.p2.id, made.q1.id, made.r1.id, made.p_1.id];
      expect(await order(sort, { latest_id: { any_: latestIds } })).toEqual(full);
    });

    test.each(SORTS)('%s: paging with limit 1 visits every key once', async (sort) => {
      const full = await order(sort);
      const seen: string[] = [];
      for (let offset = 0; offset < 6; offset++) {
        seen.push(...keys(await h.call('POST', LATEST_FILTER, { sort, offset, limit: 1 })));
      }
      expect(seen).toEqual(full);
    });

    // Runs last in this block: it PATCHes.
    test('UPDATED_DESC orders by the latest write, including a PATCH of the latest version', async () => {
      expect(await order('UPDATED_DESC')).toEqual(['p-1', 'p', 'r', 'q']);
      expect((await h.call('PATCH', `/api/artifacts/${made.q1.id}`, { data: 'q1-patched' })).status).toBe(204);
      expect(await order('UPDATED_DESC')).toEqual(['q', 'p-1', 'p', 'r']);
      // A PATCH of a non-latest version does not move its key.
      expect((await h.call('PATCH', `/api/artifacts/${made.p1.id}`, { data: 'p1-patched' })).status).toBe(204);
      expect(await order('UPDATED_DESC')).toEqual(['q', 'p-1', 'p', 'r']);
      // CREATED_DESC does not move either.
      expect(await order('CREATED_DESC')).toEqual(['p-1', 'r', 'q', 'p']);
    });
  });

  describe('limits on /latest/filter', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({}, backend);
      for (const key of ['l-a', 'l-b', 'l-c', 'l-a']) await h.create({ key });
    });
    afterAll(async () => {
      await h.close();
    });

    test('the same limit texts as /filter', async () => {
      for (const [limit, text] of [
        [201, 'Invalid limit: must be less than or equal to 200.'],
        [-1, 'Invalid limit: must be greater than or equal to 0.'],
      ] as const) {
        const latest = await h.call('POST', LATEST_FILTER, { limit, sort: 'NOPE' });
        expect(latest.status).toBe(422);
        expect(latest.body).toEqual({ detail: text });
        const plain = await h.call('POST', FILTER, { limit });
        expect(plain.body).toEqual(latest.body);
      }
    });

    test('limit 0, limit + offset, lax integers, offset validation', async () => {
      const all = keys(await h.call('POST', LATEST_FILTER, { sort: 'KEY_ASC' }));
      expect(all).toEqual(['l-a', 'l-b', 'l-c']);
      expect(rows(await h.call('POST', LATEST_FILTER, { limit: 0 }))).toEqual([]);
      expect(keys(await h.call('POST', LATEST_FILTER, { sort: 'KEY_ASC', limit: 1, offset: 1 }))).toEqual(['l-b']);
      expect(keys(await h.call('POST', LATEST_FILTER, { sort: 'KEY_ASC', limit: '2' }))).toEqual(['l-a', 'l-b']);
      expect(rows(await h.call('POST', LATEST_FILTER, { offset: 3 }))).toEqual([]);
      const neg = issues(await h.call('POST', LATEST_FILTER, { offset: -1 }));
      expect(neg[0].type).toBe('greater_than_equal');
      expect(neg[0].loc).toEqual(['body', 'offset']);
      const frac = issues(await h.call('POST', LATEST_FILTER, { limit: 1.5 }));
      expect(frac[0].type).toBe('int_from_float');
    });

    test('the count is not limited and ignores paging', async () => {
      const reply = await h.call('POST', LATEST_COUNT, { limit: 1, offset: 2, sort: 'bad' });
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(3);
    });

    test('a configured default limit applies to /latest/filter too', async () => {
      const small = await harness({ defaultLimit: 2 }, backend);
      try {
        for (const key of ['m-a', 'm-b', 'm-c']) await small.create({ key });
        expect(rows(await small.call('POST', LATEST_FILTER, {}))).toHaveLength(2);
        const over = await small.call('POST', LATEST_FILTER, { limit: 3 });
        expect(over.status).toBe(422);
        expect(over.body).toEqual({ detail: 'Invalid limit: must be less than or equal to 2.' });
        expect((await small.call('POST', LATEST_COUNT, {})).body).toBe(3);
      } finally {
        await small.close();
      }
    });
  });
});
