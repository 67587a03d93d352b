/**
 * HTTP behaviour of POST /api/artifacts/filter and POST /api/artifacts/count: every sub-filter
 * and operator of ArtifactFilter, the embedded-body rules, validation inside filters, paging and
 * limits, the five sorts and their tie-break, and the validation of the run filters (their
 * evaluation: artifacts-run-filters-*.test.ts). Sources: shared/spec/artifacts-api.md §1, §3,
 * §6.6, §6.8, §7, §12; filters.md §1–3, §8, §11; the recorded Prefect 3.0.0 exchanges.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { harness, type Harness, type Reply } from '../helpers.ts';
import { ALL_ROUTES, COUNT, FILTER, FR1, FR2, LATEST_COUNT, LATEST_FILTER, SORT_EXPECTED, SORTS, TR1, TR2, UNKNOWN, sorted } from './artifact-routes.ts';
import { LIMIT_MAX, LIMIT_MIN, extraForbidden, issues, limitRejected, onlyIssue, type Issue } from './expect.ts';
import { describeBackends } from '../backends.ts';

const ids = (reply: Reply): string[] => {
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body.map((a: any) => a.id);
};
const descending = (xs: string[]) => [...xs].sort().reverse();

describeBackends('artifact filters', (backend) => {
  // ── the shared data set ─────────────────────────────────────────────────────────────────────

  describe('artifact filters over a fixed data set', () => {
    let h: Harness;
    const a: Record<string, any> = {};
    const filter = (artifacts: unknown) => h.call('POST', FILTER, { artifacts });
    const count = (artifacts: unknown) => h.call('POST', COUNT, { artifacts });
    /** Checks /filter returns exactly these artifacts and /count returns their number. */
    async function expectMatches(artifacts: unknown, names: string[]) {
      const got = ids(await filter(artifacts));
      expect(sorted(got)).toEqual(sorted(names.map((n) => a[n].id)));
      const counted = await count(artifacts);
      expect(counted.status).toBe(200);
      expect(counted.text).toBe(String(names.length));
    }

    beforeAll(async () => {
      h = await harness({}, backend);
      const seed: [string, Record<string, unknown>][] = [
        ['one1', { key: 'k-one', type: 'table', flow_run_id: FR1, task_run_id: TR1, data: 'one v1' }],
        ['two', { key: 'k-two', type: 'markdown', flow_run_id: FR1, data: 'two' }],
        ['one2', { key: 'k-one', type: 'result', flow_run_id: FR2, task_run_id: TR2, data: 'one v2' }],
        ['nokey1', { type: 'table', data: 1 }],
        ['nokey2', { data: 2 }],
        ['alpha', { key: 'alpha', data: 'alpha' }],
        ['empty', { key: '', type: 'progress', data: 0.5 }],
        ['run', { key: 'kx-run-one', type: 'TABLE', task_run_id: TR1 }],
      ];
      for (const [name, body] of seed) a[name] = await h.create(body);
    });
    afterAll(async () => {
      await h.close();
    });

    const EVERY = ['one1', 'two', 'one2', 'nokey1', 'nokey2', 'alpha', 'empty', 'run'];
    const KEYED = ['one1', 'two', 'one2', 'alpha', 'empty', 'run'];

    test('no filter, {} and explicit nulls match every artifact (keyless included)', async () => {
      const all = EVERY.map((n) => a[n].id);
      expect(sorted(ids(await h.call('POST', FILTER, {})))).toEqual(sorted(all));
      await expectMatches({}, EVERY);
      await expectMatches(null, EVERY);
      // What the 3.0.0 Python client sends: a full dump with every sub-filter null.
      await expectMatches({ operator: 'and_', id: null, key: null, flow_run_id: null, task_run_id: null, type: null }, EVERY);
      await expectMatches({ key: { any_: null, like_: null, exists_: null } }, EVERY);
      expect((await h.call('POST', COUNT, {})).body).toBe(8);
    });

    test('a present but empty sub-object matches everything: {"key": {}}', async () => {
      await expectMatches({ key: {} }, EVERY);
      await expectMatches({ type: {} }, EVERY);
      await expectMatches({ id: {} }, EVERY);
      await expectMatches({ operator: 'or_' }, EVERY);
    });

    test('id.any_: by value (upper-case and unhyphenated input match), unknown and [] match nothing', async () => {
      await expectMatches({ id: { any_: [a.two.id] } }, ['two']);
      await expectMatches({ id: { any_: [a.two.id.toUpperCase(), a.alpha.id.replaceAll('-', '')] } }, ['two', 'alpha']);
      await expectMatches({ id: { any_: [UNKNOWN] } }, []);
      await expectMatches({ id: { any_: [] } }, []);
    });

    test('key.any_: exact, case-sensitive; "" is a key; [] matches nothing', async () => {
      await expectMatches({ key: { any_: ['k-one'] } }, ['one1', 'one2']);
      await expectMatches({ key: { any_: ['k-one', 'alpha', 'missing'] } }, ['one1', 'one2', 'alpha']);
      await expectMatches({ key: { any_: [''] } }, ['empty']);
      await expectMatches({ key: { any_: ['K-ONE'] } }, []);
      await expectMatches({ key: { any_: ['k-on'] } }, []);
      await expectMatches({ key: { any_: [] } }, []);
    });

    test('key.exists_: true keeps keyed artifacts ("" counts as a key), false only keyless ones', async () => {
      await expectMatches({ key: { exists_: true } }, KEYED);
      await expectMatches({ key: { exists_: false } }, ['nokey1', 'nokey2']);
    });

    test('key.like_ is a substring match', async () => {
      await expectMatches({ key: { like_: 'one' } }, ['one1', 'one2', 'run']);
      await expectMatches({ key: { like_: 'k-' } }, ['one1', 'two', 'one2']);
      await expectMatches({ key: { like_: 'lph' } }, ['alpha']);
      await expectMatches({ key: { like_: 'zzz' } }, []);
    });

    test('key.like_ folds ASCII case', async () => {
      await expectMatches({ key: { like_: 'ONE' } }, ['one1', 'one2', 'run']);
      await expectMatches({ key: { like_: 'AlPhA' } }, ['alpha']);
    });

    test('key.like_: "_" is exactly one character, "%" any run', async () => {
      await expectMatches({ key: { like_: 'k_o' } }, ['one1', 'one2']);
      await expectMatches({ key: { like_: 'K_T' } }, ['two']);
      await expectMatches({ key: { like_: 'a%a' } }, ['alpha']);
      await expectMatches({ key: { like_: 'x%e' } }, ['run']);
      await expectMatches({ key: { like_: 'k%one' } }, ['one1', 'one2', 'run']);
      await expectMatches({ key: { like_: '%' } }, KEYED);
      // "_" needs a character, so the empty key does not match it.
      await expectMatches({ key: { like_: '_' } }, KEYED.filter((n) => n !== 'empty'));
      await expectMatches({ key: { like_: 'alpha_' } }, []);
    });

    test('key.like_ "" matches every non-null key (the empty key included)', async () => {
      await expectMatches({ key: { like_: '' } }, KEYED);
    });

    test('key.like_: other characters are literal, and only ASCII is case-folded', async () => {
      // "." is not a wildcard.
      await expectMatches({ key: { like_: 'k.o' } }, []);
      await expectMatches({ key: { like_: 'k.%' } }, []);
      await expectMatches({ key: { like_: 'k-%e' } }, ['one1', 'one2']);
      // KELVIN SIGN lower-cases to "k" and LONG S upper-cases to "S" in Unicode: neither may match.
      await expectMatches({ key: { like_: '\u212A' } }, []);
      await expectMatches({ key: { like_: '\u212A-one' } }, []);
      await expectMatches({ key: { like_: 'alpha\u017F' } }, []);
      await expectMatches({ key: { like_: 'ALPHA' } }, ['alpha']);
    });

    test('the leaves of one sub-object are ANDed', async () => {
      await expectMatches({ key: { any_: ['k-one', 'k-two'], like_: 'two' } }, ['two']);
      await expectMatches({ key: { like_: 'one', exists_: false } }, []);
      await expectMatches({ type: { any_: ['table', 'result'], not_any_: ['result'] } }, ['one1', 'nokey1']);
    });

    test('flow_run_id.any_ / task_run_id.any_ compare raw stored ids (the runs need not exist)', async () => {
      await expectMatches({ flow_run_id: { any_: [FR1] } }, ['one1', 'two']);
      await expectMatches({ flow_run_id: { any_: [FR2.toUpperCase()] } }, ['one2']);
      await expectMatches({ flow_run_id: { any_: [FR1, FR2] } }, ['one1', 'two', 'one2']);
      await expectMatches({ flow_run_id: { any_: [UNKNOWN] } }, []);
      await expectMatches({ flow_run_id: { any_: [] } }, []);
      await expectMatches({ task_run_id: { any_: [TR1] } }, ['one1', 'run']);
      await expectMatches({ task_run_id: { any_: [TR2] } }, ['one2']);
      await expectMatches({ task_run_id: { any_: [] } }, []);
    });

    test('type.any_: exact and case-sensitive; [] matches nothing', async () => {
      await expectMatches({ type: { any_: ['table'] } }, ['one1', 'nokey1']);
      await expectMatches({ type: { any_: ['TABLE'] } }, ['run']);
      await expectMatches({ type: { any_: ['markdown', 'progress'] } }, ['two', 'empty']);
      await expectMatches({ type: { any_: [] } }, []);
    });

    test('type.not_any_ drops artifacts without a type; [] matches everything incl. NULLs', async () => {
      await expectMatches({ type: { not_any_: ['result'] } }, ['one1', 'two', 'nokey1', 'empty', 'run']);
      await expectMatches({ type: { not_any_: ['table', 'markdown', 'result', 'progress', 'TABLE'] } }, []);
      await expectMatches({ type: { not_any_: [] } }, EVERY);
    });

    test('operator and_ (the default) intersects sub-filters', async () => {
      await expectMatches({ key: { any_: ['k-one'] }, type: { any_: ['table'] } }, ['one1']);
      await expectMatches({ operator: 'and_', key: { any_: ['k-one'] }, type: { any_: ['table'] } }, ['one1']);
      await expectMatches({ flow_run_id: { any_: [FR1] }, task_run_id: { any_: [TR1] } }, ['one1']);
      await expectMatches({ id: { any_: [a.alpha.id] }, key: { any_: ['k-one'] } }, []);
    });

    test('operator or_ unites sub-filters', async () => {
      await expectMatches({ operator: 'or_', key: { any_: ['alpha'] }, type: { any_: ['table'] } }, ['alpha', 'one1', 'nokey1']);
      await expectMatches({ operator: 'or_', id: { any_: [a.nokey2.id] }, flow_run_id: { any_: [FR2] } }, ['nokey2', 'one2']);
      await expectMatches(
        { operator: 'or_', key: { any_: ['k-two'] }, task_run_id: { any_: [TR1] }, type: { any_: [] } },
        ['two', 'one1', 'run'],
      );
    });

    test('or_ with a present-but-empty sub-object matches every row', async () => {
      await expectMatches({ operator: 'or_', key: {}, type: { any_: ['table'] } }, EVERY);
      await expectMatches({ operator: 'or_', id: { any_: [] }, task_run_id: {} }, EVERY);
    });

    test('the operator of the top-level object does not apply inside a sub-object', async () => {
      // Within `key`, leaves are always ANDed: "k-two" does not contain "one".
      await expectMatches({ operator: 'or_', key: { any_: ['k-two'], like_: 'one' } }, []);
    });

    test('counts are a bare JSON integer', async () => {
      const reply = await h.call('POST', COUNT, { artifacts: { key: { any_: ['k-one'] } } });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(reply.text).toBe('2');
      expect(reply.body).toBe(2);
    });
  });

  // ── embedded bodies ─────────────────────────────────────────────────────────────────────────

  describe('embedded body rules', () => {
    let h: Harness;
    let all: string[];
    beforeAll(async () => {
      h = await harness({}, backend);
      for (const key of ['e-a', 'e-b', null, 'e-c']) await h.create({ key, data: key });
      all = ids(await h.call('POST', FILTER, {}));
      expect(all).toHaveLength(4);
    });
    afterAll(async () => {
      await h.close();
    });

    test('an absent, empty or JSON null body is {}', async () => {
      expect(ids(await h.call('POST', FILTER))).toEqual(all);
      expect(ids(await h.call('POST', FILTER, ''))).toEqual(all);
      expect(ids(await h.call('POST', FILTER, 'null'))).toEqual(all);
      for (const body of [undefined, '', 'null', '{}']) {
        const reply = await h.call('POST', COUNT, body);
        expect(reply.status).toBe(200);
        expect(reply.body).toBe(4);
      }
    });

    test('null for sort, limit, offset and artifacts means the default', async () => {
      const reply = await h.call('POST', FILTER, { sort: null, limit: null, offset: null, artifacts: null });
      expect(ids(reply)).toEqual(all);
      // What the 3.0.0 Python client sends.
      const client = await h.call('POST', FILTER, {
        artifacts: null,
        flow_runs: null,
        task_runs: null,
        sort: null,
        limit: null,
        offset: 0,
      });
      expect(ids(client)).toEqual(all);
      expect((await h.call('POST', COUNT, { artifacts: null })).body).toBe(4);
    });

    test('unknown top-level keys are ignored', async () => {
      expect(ids(await h.call('POST', FILTER, { limit: 2, foo: 1, bar: { baz: [] } }))).toEqual(all.slice(0, 2));
      const counted = await h.call('POST', COUNT, { foo: 'x', artifacts: { key: { any_: ['e-a'] } } });
      expect(counted.status).toBe(200);
      expect(counted.body).toBe(1);
    });

    test.each([FILTER, COUNT, LATEST_FILTER, LATEST_COUNT])('a body that is not an object is 422 on %s', async (route) => {
      for (const body of ['[]', '5', '"x"', 'true']) {
        const reply = await h.call('POST', route, body);
        const detail = issues(reply, JSON.parse(body));
        expect(detail.length).toBeGreaterThan(0);
        expect(detail.every((d) => d.loc[0] === 'body')).toBe(true);
      }
    });

    test('a body that is not JSON is 422 json_invalid with the raw text echoed', async () => {
      const reply = await h.call('POST', FILTER, '{"limit": ');
      const detail = issues(reply, '{"limit": ');
      expect(detail).toHaveLength(1);
      expect(detail[0].type).toBe('json_invalid');
    });
  });

  // ── validation inside filters ───────────────────────────────────────────────────────────────

  describe('validation errors inside filters', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({}, backend);
      await h.create({ key: 'v-one' });
    });
    afterAll(async () => {
      await h.close();
    });

    const single = async (route: string, body: object) => {
      const detail = issues(await h.call('POST', route, body), body);
      expect(detail).toHaveLength(1);
      return detail[0];
    };

    test('an extra key at the top of the filter → extra_forbidden at its loc', async () => {
      for (const route of [FILTER, COUNT]) {
        const body = { artifacts: { colour: 'teal' } };
        expect(await single(route, body)).toEqual(extraForbidden(['artifacts', 'colour'], 'teal'));
      }
    });

    test('operator inside a non-operator object (key) → extra_forbidden', async () => {
      const body = { artifacts: { key: { any_: ['v-one'], operator: 'and_' } } };
      expect(await single(FILTER, body)).toEqual(extraForbidden(['artifacts', 'key', 'operator'], 'and_'));
      const onType = await single(COUNT, { artifacts: { type: { operator: 'or_' } } });
      expect(onType.type).toBe('extra_forbidden');
      expect(onType.loc).toEqual(['body', 'artifacts', 'type', 'operator']);
    });

    test('an unknown leaf deep inside → extra_forbidden with the full loc', async () => {
      const body = { artifacts: { id: { all_: [] } } };
      const issue = await single(FILTER, body);
      expect(issue.type).toBe('extra_forbidden');
      expect(issue.loc).toEqual(['body', 'artifacts', 'id', 'all_']);
    });

    test('type.like_ does not exist → 422', async () => {
      const issue = await single(FILTER, { artifacts: { type: { like_: 'tab' } } });
      expect(issue.type).toBe('extra_forbidden');
      expect(issue.loc).toEqual(['body', 'artifacts', 'type', 'like_']);
    });

    test('operator "xor" → enum', async () => {
      const issue = await single(FILTER, { artifacts: { operator: 'xor' } });
      expect(issue.type).toBe('enum');
      expect(issue.loc).toEqual(['body', 'artifacts', 'operator']);
      expect(issue.input).toBe('xor');
      expect(issue.msg).toBe("Input should be 'and_' or 'or_'");
    });

    test('null inside any_ → string_type at the element', async () => {
      const issue = await single(FILTER, { artifacts: { key: { any_: ['v-one', null] } } });
      expect(issue).toEqual({
        type: 'string_type',
        loc: ['body', 'artifacts', 'key', 'any_', 1],
        msg: 'Input should be a valid string',
        input: null,
      });
      const numeric = await single(COUNT, { artifacts: { type: { not_any_: [5] } } });
      expect(numeric.type).toBe('string_type');
      expect(numeric.loc).toEqual(['body', 'artifacts', 'type', 'not_any_', 0]);
    });

    test('a bad uuid in id.any_ / flow_run_id.any_ → uuid_parsing', async () => {
      const issue = await single(FILTER, { artifacts: { id: { any_: ['not-a-uuid'] } } });
      expect(issue.type).toBe('uuid_parsing');
      expect(issue.loc).toEqual(['body', 'artifacts', 'id', 'any_', 0]);
      expect(issue.input).toBe('not-a-uuid');
      expect(issue.msg).toStartWith('Input should be a valid UUID');
      const run = await single(COUNT, { artifacts: { flow_run_id: { any_: [FR1, '1234'] } } });
      expect(run.type).toBe('uuid_parsing');
      expect(run.loc).toEqual(['body', 'artifacts', 'flow_run_id', 'any_', 1]);
    });

    test('wrong container types → 422', async () => {
      const notList = await single(FILTER, { artifacts: { key: { any_: 'v-one' } } });
      expect(notList.type).toBe('list_type');
      expect(notList.loc).toEqual(['body', 'artifacts', 'key', 'any_']);
      const notObject = issues(await h.call('POST', FILTER, { artifacts: [] }));
      expect(notObject[0].loc).toEqual(['body', 'artifacts']);
      const notBool = await single(FILTER, { artifacts: { key: { exists_: 'maybe' } } });
      expect(notBool.type).toBe('bool_parsing');
      expect(notBool.loc).toEqual(['body', 'artifacts', 'key', 'exists_']);
    });

    test('lax booleans are accepted for exists_', async () => {
      const yes = await h.call('POST', COUNT, { artifacts: { key: { exists_: 'yes' } } });
      expect(yes.status).toBe(200);
      expect(yes.body).toBe(1);
      const zero = await h.call('POST', COUNT, { artifacts: { key: { exists_: 0 } } });
      expect(zero.status).toBe(200);
      expect(zero.body).toBe(0);
    });

    test('several errors are all reported', async () => {
      const body = { artifacts: { operator: 'xor', key: { nope: 1 } }, sort: 'nope' };
      const detail = issues(await h.call('POST', FILTER, body), body);
      const found = detail.map((d) => [d.type, d.loc.join('.')]);
      expect(found).toContainEqual(['enum', 'body.artifacts.operator']);
      expect(found).toContainEqual(['extra_forbidden', 'body.artifacts.key.nope']);
      expect(found).toContainEqual(['enum', 'body.sort']);
      expect(detail).toHaveLength(3);
    });

    test('a lower-case sort → enum listing the five sorts', async () => {
      const issue = await single(FILTER, { sort: 'key_asc' });
      expect(issue).toEqual({
        type: 'enum',
        loc: ['body', 'sort'],
        msg: `Input should be ${SORT_EXPECTED}`,
        input: 'key_asc',
        ctx: { expected: SORT_EXPECTED },
      });
    });
  });

  // ── paging and limits ───────────────────────────────────────────────────────────────────────

  describe('paging and limits over 210 artifacts', () => {
    let h: Harness;
    let all: string[]; // ID_DESC, the default order
    beforeAll(async () => {
      h = await harness({}, backend);
      const bodies = Array.from({ length: 210 }, (_, i) => ({ key: `p-${i % 7}`, data: i }));
      for (let i = 0; i < bodies.length; i += 30) await Promise.all(bodies.slice(i, i + 30).map((b) => h.create(b)));
      expect((await h.call('POST', COUNT, {})).body).toBe(210);
      // Collect every id through two pages (the only way to see more than 200).
      const first = ids(await h.call('POST', FILTER, { limit: 200 }));
      const rest = ids(await h.call('POST', FILTER, { offset: 200 }));
      all = [...first, ...rest];
      expect(new Set(all).size).toBe(210);
    });
    afterAll(async () => {
      await h.close();
    });

    test('the default limit is 200 and the default order is descending id', async () => {
      const page = ids(await h.call('POST', FILTER, {}));
      expect(page).toHaveLength(200);
      expect(page).toEqual(descending(all).slice(0, 200));
    });

    test('the count is not limited', async () => {
      const reply = await h.call('POST', COUNT, { artifacts: { key: { like_: 'p-' } } });
      expect(reply.body).toBe(210);
    });

    test('limit 0 → [], limit 200 → 200, limit 1 → 1', async () => {
      expect(ids(await h.call('POST', FILTER, { limit: 0 }))).toEqual([]);
      expect(ids(await h.call('POST', FILTER, { limit: 200 }))).toHaveLength(200);
      expect(ids(await h.call('POST', FILTER, { limit: 1 }))).toEqual([descending(all)[0]]);
    });

    test('limit above the maximum → 422 with the detail text', async () => {
      for (const limit of [201, 500, 1_000_000]) {
        limitRejected(await h.call('POST', FILTER, { limit }), LIMIT_MAX);
      }
    });

    test('a negative limit → 422 with the ≥ 0 text', async () => {
      limitRejected(await h.call('POST', FILTER, { limit: -1 }), LIMIT_MIN);
    });

    test('an out-of-range limit masks every other error in the body', async () => {
      limitRejected(await h.call('POST', FILTER, { limit: 201, sort: 'nope', offset: -3, artifacts: { colour: 1 } }), LIMIT_MAX);
      limitRejected(await h.call('POST', FILTER, { limit: -1, artifacts: { key: { any_: [null] } } }), LIMIT_MIN);
    });

    test('a non-integer limit is a normal 422, reported together with a bad sort', async () => {
      const body = { limit: 'abc', sort: 'NOPE' };
      const detail = issues(await h.call('POST', FILTER, body), body);
      expect(detail).toHaveLength(2);
      const byLoc = Object.fromEntries(detail.map((d) => [d.loc.join('.'), d]));
      expect(byLoc['body.limit']).toEqual({
        type: 'int_parsing',
        loc: ['body', 'limit'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'abc',
      });
      expect(byLoc['body.sort'].type).toBe('enum');
    });

    test('lax integers: "10", 10.0 and true are accepted as limit', async () => {
      expect(ids(await h.call('POST', FILTER, { limit: '10' }))).toHaveLength(10);
      expect(ids(await h.call('POST', FILTER, '{"limit": 10.0}'))).toHaveLength(10);
      expect(ids(await h.call('POST', FILTER, { limit: true }))).toHaveLength(1);
      expect(ids(await h.call('POST', FILTER, { limit: '3', offset: '2' }))).toEqual(descending(all).slice(2, 5));
    });

    test('limit 10.5 → 422 int_from_float', async () => {
      const detail = issues(await h.call('POST', FILTER, { limit: 10.5 }), { limit: 10.5 });
      expect(detail).toHaveLength(1);
      expect(detail[0].type).toBe('int_from_float');
      expect(detail[0].loc).toEqual(['body', 'limit']);
    });

    test('offset -1 → 422 greater_than_equal', async () => {
      const detail = issues(await h.call('POST', FILTER, { offset: -1 }), { offset: -1 });
      expect(detail).toEqual([
        {
          type: 'greater_than_equal',
          loc: ['body', 'offset'],
          msg: 'Input should be greater than or equal to 0',
          input: -1,
          ctx: { ge: 0 },
        },
      ]);
    });

    test('offset skips rows; beyond the end → []', async () => {
      const order = descending(all);
      expect(ids(await h.call('POST', FILTER, { offset: 5, limit: 3 }))).toEqual(order.slice(5, 8));
      expect(ids(await h.call('POST', FILTER, { offset: 205 }))).toEqual(order.slice(205));
      expect(ids(await h.call('POST', FILTER, { offset: 210 }))).toEqual([]);
      expect(ids(await h.call('POST', FILTER, { offset: 100_000 }))).toEqual([]);
    });

    test('limit and offset apply after filtering', async () => {
      const mine = ids(await h.call('POST', FILTER, { artifacts: { key: { any_: ['p-3'] } } }));
      expect(mine).toHaveLength(30);
      const page = ids(await h.call('POST', FILTER, { artifacts: { key: { any_: ['p-3'] } }, offset: 10, limit: 5 }));
      expect(page).toEqual(mine.slice(10, 15));
    });

    test('the version header is checked before the limit', async () => {
      const reply = await h.call('POST', FILTER, { limit: 500 }, { 'x-prefect-api-version': 'abc' });
      expect(reply.status).toBe(400);
      expect(reply.body.detail).toStartWith('Invalid X-PREFECT-API-VERSION header format.');
    });
  });

  describe('a configured default limit', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({ defaultLimit: 5 }, backend);
      for (let i = 0; i < 7; i++) await h.create({ key: `d-${i}` });
    });
    afterAll(async () => {
      await h.close();
    });

    test('is the default', async () => {
      expect(ids(await h.call('POST', FILTER, {}))).toHaveLength(5);
      expect(ids(await h.call('POST', FILTER, { limit: null }))).toHaveLength(5);
      expect((await h.call('POST', COUNT, {})).body).toBe(7);
    });

    test('is the maximum', async () => {
      expect(ids(await h.call('POST', FILTER, { limit: 5 }))).toHaveLength(5);
      const reply = await h.call('POST', FILTER, { limit: 6 });
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual({ detail: 'Invalid limit: must be less than or equal to 5.' });
      expect(ids(await h.call('POST', FILTER, { offset: 5 }))).toHaveLength(2);
    });
  });

  // ── sorts ───────────────────────────────────────────────────────────────────────────────────

  describe('sorts', () => {
    let h: Harness;
    let made: any[]; // in creation order
    beforeEach(async () => {
      h = await harness({}, backend);
      made = [];
      for (const key of ['c-1', 'c', null, 'b', null, 'd', 'c']) made.push(await h.create({ key, data: key }));
    });
    afterEach(async () => {
      await h.close();
    });
    const read = async (sort?: string, artifacts?: unknown) => {
      const reply = await h.call('POST', FILTER, sort === undefined ? { artifacts } : { sort, artifacts });
      expect(reply.status).toBe(200);
      return reply.body as any[];
    };

    test('CREATED_DESC: newest first', async () => {
      const rows = await read('CREATED_DESC');
      expect(rows.map((r) => r.id)).toEqual(made.map((m) => m.id).reverse());
    });

    test('UPDATED_DESC: a PATCHed artifact moves to the front', async () => {
      expect((await read('UPDATED_DESC')).map((r) => r.id)).toEqual(made.map((m) => m.id).reverse());
      const oldest = made[0].id;
      const patched = await h.call('PATCH', `/api/artifacts/${oldest}`, { data: 'patched' });
      expect(patched.status).toBe(204);
      const rows = await read('UPDATED_DESC');
      expect(rows.map((r) => r.id)).toEqual([oldest, ...made.slice(1).map((m) => m.id).reverse()]);
      expect(rows[0].data).toBe('patched');
      // CREATED_DESC is not affected by the PATCH.
      expect((await read('CREATED_DESC')).map((r) => r.id)).toEqual(made.map((m) => m.id).reverse());
    });

    test('ID_DESC is the default and orders by descending id string', async () => {
      const expected = descending(made.map((m) => m.id));
      expect((await read()).map((r) => r.id)).toEqual(expected);
      expect((await read('ID_DESC')).map((r) => r.id)).toEqual(expected);
      const none = await h.call('POST', FILTER);
      expect(ids(none)).toEqual(expected);
    });

    test('KEY_ASC: NULL keys first, "c" before "c-1"', async () => {
      const rows = await read('KEY_ASC');
      expect(rows.map((r) => r.key)).toEqual([null, null, 'b', 'c', 'c', 'c-1', 'd']);
    });

    test('KEY_DESC: NULL keys last', async () => {
      const rows = await read('KEY_DESC');
      expect(rows.map((r) => r.key)).toEqual(['d', 'c-1', 'c', 'c', 'b', null, null]);
    });

    test.each(SORTS)('%s gives the same order when a filter narrows to ids or keys', async (sort) => {
      const full = (await read(sort)).map((r) => r.id);
      // Ids listed newest first, so ties are not already in index order.
      const byIds = (await read(sort, { id: { any_: made.map((m) => m.id).reverse() } })).map((r) => r.id);
      expect(byIds).toEqual(full);
      const keys = ['c', 'c-1', 'b'];
      const byKeys = (await read(sort, { key: { any_: keys } })).map((r) => r.id);
      const wanted = new Set(made.filter((m) => keys.includes(m.key)).map((m) => m.id));
      expect(byKeys).toEqual(full.filter((id) => wanted.has(id)));
    });
  });

  describe('stable tie-break: paging through many versions of one key', () => {
    let h: Harness;
    let versions: string[];
    let everyId: string[];
    beforeAll(async () => {
      h = await harness({}, backend);
      versions = [];
      everyId = [];
      for (let i = 0; i < 15; i++) {
        versions.push((await h.create({ key: 'same', data: i })).id);
        if (i % 5 === 0) everyId.push((await h.create({ key: i === 0 ? null : `other-${i}`, data: -i })).id);
      }
      // Every id, in an order unrelated to any sort (middle out), for the id-narrowed path.
      everyId.push(...versions);
      everyId = [...everyId.filter((_, i) => i % 2 === 1).reverse(), ...everyId.filter((_, i) => i % 2 === 0)];
      // PATCH a few versions so UPDATED_DESC is not simply CREATED_DESC.
      for (const id of [versions[3], versions[11], versions[0]]) {
        expect((await h.call('PATCH', `/api/artifacts/${id}`, { description: 'p' })).status).toBe(204);
      }
    });
    afterAll(async () => {
      await h.close();
    });

    const page = async (sort: string, offset: number, limit: number, artifacts?: unknown) =>
      ids(await h.call('POST', FILTER, { sort, offset, limit, artifacts }));

    for (const sort of SORTS) {
      for (const [label, filterOf, total] of [
        ['all artifacts', () => undefined, 18],
        ['key.any_', () => ({ key: { any_: ['same'] } }), 15],
        ['key.like_', () => ({ key: { like_: 'sam' } }), 15],
        ['id.any_', () => ({ id: { any_: everyId } }), 18],
        ['task_run_id.any_ or key', () => ({ operator: 'or_', task_run_id: { any_: [TR1] }, key: { like_: 'same' } }), 15],
      ] as const) {
        test(`${sort} over ${label}: every artifact exactly once`, async () => {
          const artifacts = filterOf();
          const whole = await page(sort, 0, 200, artifacts);
          expect(whole).toHaveLength(total);
          // A narrowed query keeps the relative order of the unfiltered one.
          const members = new Set(whole);
          expect(whole).toEqual((await page(sort, 0, 200)).filter((id) => members.has(id)));
          const seen: string[] = [];
          for (const limit of [1, 4]) {
            seen.length = 0;
            for (let offset = 0; offset < total + limit; offset += limit) seen.push(...(await page(sort, offset, limit, artifacts)));
            expect(seen).toEqual(whole);
          }
          expect(new Set(seen).size).toBe(total);
          // The same order again: the tie-break is deterministic.
          expect(await page(sort, 0, 200, artifacts)).toEqual(whole);
        });
      }
    }
  });

  // ── count routes ignore paging ──────────────────────────────────────────────────────────────

  describe('count routes', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({}, backend);
      for (const key of ['n-a', 'n-a', 'n-b', null]) await h.create({ key });
    });
    afterAll(async () => {
      await h.close();
    });

    test('sort, limit and offset are ignored, even when invalid', async () => {
      for (const extra of [
        { sort: 'NOPE' },
        { limit: 500 },
        { limit: -1 },
        { limit: 'abc' },
        { offset: -1 },
        { offset: 3, limit: 1, sort: 'KEY_ASC' },
      ]) {
        const plain = await h.call('POST', COUNT, extra);
        expect(plain.status).toBe(200);
        expect(plain.body).toBe(4);
        const latest = await h.call('POST', LATEST_COUNT, extra);
        expect(latest.status).toBe(200);
        expect(latest.body).toBe(2);
      }
    });

    test('count follows creates and deletes', async () => {
      const extra = await h.create({ key: 'n-c' });
      expect((await h.call('POST', COUNT, {})).body).toBe(5);
      expect((await h.call('POST', COUNT, { artifacts: { key: { like_: 'n-' } } })).body).toBe(4);
      expect((await h.call('DELETE', `/api/artifacts/${extra.id}`)).status).toBe(204);
      expect((await h.call('POST', COUNT, {})).body).toBe(4);
      expect((await h.call('POST', COUNT, { artifacts: { key: { like_: 'n-' } } })).body).toBe(3);
    });
  });

  // ── run filters: validation (evaluation: artifacts-run-filters-*.test.ts) ───────────────────

  describe('run filters (flow_runs, task_runs, flows, deployments)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({}, backend);
      await h.create({ key: 'r-a', flow_run_id: FR1, task_run_id: TR1 });
      await h.create({ key: 'r-b' });
    });
    afterAll(async () => {
      await h.close();
    });

    const RUN_FILTERS = ['flow_runs', 'task_runs', 'flows', 'deployments'] as const;
    const VALID: Record<(typeof RUN_FILTERS)[number], object[]> = {
      flow_runs: [
        {},
        { id: { any_: [FR1] } },
        { operator: 'or_', state: { type: { any_: ['COMPLETED'] }, name: { not_any_: ['Late'] } } },
        { start_time: { after_: '2024-01-01T00:00:00Z', is_null_: false } },
        { tags: { all_: ['x'], is_null_: null } },
      ],
      task_runs: [
        {},
        { id: { any_: [TR1] } },
        { flow_run_id: { is_null_: true } },
        { subflow_runs: { exists_: 'yes' }, state: { type: { any_: ['FAILED'] } } },
      ],
      flows: [{}, { name: { like_: 'f' } }, { deployment: { is_null_: true } }],
      deployments: [{}, { paused: { eq_: 'yes' } }, { concurrency_limit: { ge_: '2', le_: 5 } }],
    };

    for (const route of ALL_ROUTES) {
      for (const name of RUN_FILTERS) {
        test(`${route}: a valid ${name} filter is evaluated (200)`, async () => {
          for (const value of VALID[name]) {
            const reply = await h.call('POST', route, { [name]: value });
            expect(reply.status).toBe(200);
          }
        });
      }

      test(`${route}: null run filters are fine`, async () => {
        const reply = await h.call('POST', route, { flow_runs: null, task_runs: null, flows: null, deployments: null });
        expect(reply.status).toBe(200);
      });
    }

    test('run filters still respect the limit check and artifact validation first', async () => {
      expect((await h.call('POST', FILTER, { flows: {}, limit: 201 })).body).toEqual(LIMIT_MAX);
      const bad = await h.call('POST', FILTER, { flows: {}, artifacts: { colour: 1 } });
      expect(bad.status).toBe(422);
    });

    const INVALID: [string, object, Issue][] = [
      [
        'flow_runs.state.type.any_ ["NOPE"] → enum',
        { flow_runs: { state: { type: { any_: ['NOPE'] } } } },
        { type: 'enum', loc: ['body', 'flow_runs', 'state', 'type', 'any_', 0] },
      ],
      [
        'lower-case state type → enum',
        { task_runs: { state: { type: { any_: ['completed'] } } } },
        { type: 'enum', loc: ['body', 'task_runs', 'state', 'type', 'any_', 0] },
      ],
      [
        'TaskRunFilter state name not_any_ → extra_forbidden',
        { task_runs: { state: { name: { not_any_: ['Late'] } } } },
        { type: 'extra_forbidden', loc: ['body', 'task_runs', 'state', 'name', 'not_any_'] },
      ],
      [
        'datetime garbage in flow_runs.start_time.after_ → value_error',
        { flow_runs: { start_time: { after_: 'garbage' } } },
        {
          type: 'value_error',
          loc: ['body', 'flow_runs', 'start_time', 'after_'],
          msg: 'Value error, Unable to parse string [garbage]',
        },
      ],
      [
        'datetime garbage in task_runs.expected_start_time.before_ → value_error',
        { task_runs: { expected_start_time: { before_: '2024-13-45' } } },
        {
          type: 'value_error',
          loc: ['body', 'task_runs', 'expected_start_time', 'before_'],
          msg: 'Value error, Unable to parse string [2024-13-45]',
        },
      ],
      [
        'an unknown leaf inside a run sub-filter → extra_forbidden',
        { flow_runs: { tags: { none_: ['x'] } } },
        { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'tags', 'none_'] },
      ],
      [
        'operator on a non-operator run sub-filter → extra_forbidden',
        { flows: { name: { operator: 'or_' } } },
        { type: 'extra_forbidden', loc: ['body', 'flows', 'name', 'operator'] },
      ],
      [
        'bad uuid in deployments.id.any_ → uuid_parsing',
        { deployments: { id: { any_: ['nope'] } } },
        { type: 'uuid_parsing', loc: ['body', 'deployments', 'id', 'any_', 0] },
      ],
      [
        'non-integer deployments.concurrency_limit.ge_ → int_parsing',
        { deployments: { concurrency_limit: { ge_: 'abc' } } },
        { type: 'int_parsing', loc: ['body', 'deployments', 'concurrency_limit', 'ge_'] },
      ],
      [
        'operator "xor" in flow_runs → enum',
        { flow_runs: { operator: 'xor' } },
        { type: 'enum', loc: ['body', 'flow_runs', 'operator'] },
      ],
      [
        'an unknown top-level key in task_runs → extra_forbidden',
        { task_runs: { colour: 'teal' } },
        { type: 'extra_forbidden', loc: ['body', 'task_runs', 'colour'] },
      ],
    ];

    for (const [label, body, expected] of INVALID) {
      test(`invalid: ${label}, on every route`, async () => {
        for (const route of ALL_ROUTES) {
          onlyIssue(await h.call('POST', route, body), body, expected);
        }
      });
    }

    test('an invalid run filter is a 422 even when another run filter is valid', async () => {
      const body = { flows: {}, flow_runs: { state: { type: { any_: ['NOPE'] } } } };
      const detail = issues(await h.call('POST', COUNT, body), body);
      expect(detail[0].loc).toEqual(['body', 'flow_runs', 'state', 'type', 'any_', 0]);
    });

    test('a run filter that is not an object → 422', async () => {
      for (const name of RUN_FILTERS) {
        const detail = issues(await h.call('POST', FILTER, { [name]: [] }));
        expect(detail[0].loc).toEqual(['body', name]);
      }
    });
  });
});
