/**
 * HTTP behaviour of the flow routes (shared/spec/companions.md §2, with the transport, error and
 * limit rules of artifacts-api.md §1–3 and §7, and the flow-centric filter combination):
 * create-or-fetch by name, read by id and by name, PATCH of tags, DELETE with its cascade,
 * /flows/filter (sorts, paging, cross-resource filters) and /flows/count.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { creators, readers } from './companions.ts';
import { LIMIT_MAX, LIMIT_MIN, UUID_RE, expectReply, extraForbidden, limitRejected, micros, validation } from './expect.ts';
import { MISSING_ID } from './fields.ts';
import { describeBackends } from '../backends.ts';

const FLOW_FIELDS = ['id', 'created', 'updated', 'name', 'tags', 'labels'];
const FLOW_NOT_FOUND = { detail: 'Flow not found' };

describeBackends('flows', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({}, backend);
  });
  afterEach(async () => {
    await h.close();
  });

  const { flowRun, taskRun, deployment } = creators(() => h);
  const { filterNames, count } = readers(() => h, '/api/flows');

  async function flow(name: string, extra: Record<string, unknown> = {}): Promise<any> {
    const reply = await h.call('POST', '/api/flows/', { name, ...extra });
    if (reply.status !== 201) throw new Error(`flow create failed: ${reply.status} ${reply.text}`);
    return reply.body;
  }

  // ── POST /api/flows/ ────────────────────────────────────────────────────────────────────────

  describe('POST /api/flows/ (create or fetch by name)', () => {
    test('a new name answers 201 with the Flow in Prefect field order (plus labels)', async () => {
      const before = Date.now();
      const reply = await h.call('POST', '/api/flows/', { name: 'etl', tags: ['nightly', 'sales'] });
      expect(reply.status).toBe(201);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(Object.keys(reply.body)).toEqual(FLOW_FIELDS);
      const f = reply.body;
      expect(f.id).toMatch(UUID_RE);
      expect(f.name).toBe('etl');
      expect(f.tags).toEqual(['nightly', 'sales']);
      expect(f.labels).toEqual({});
      expect(micros(f.updated)).toBeGreaterThanOrEqual(micros(f.created));
      const createdMs = micros(f.created) / 1000;
      expect(createdMs).toBeGreaterThanOrEqual(before - 1000);
      expect(createdMs).toBeLessThanOrEqual(Date.now() + 1000);
    });

    test('tags default to [] and labels to {}', async () => {
      const f = await flow('bare');
      expect(f.tags).toEqual([]);
      expect(f.labels).toEqual({});
    });

    test('the same name again answers 200 with the existing flow, tags unchanged, nothing written', async () => {
      const first = await flow('etl', { tags: ['a'] });
      const again = await h.call('POST', '/api/flows/', { name: 'etl', tags: ['b', 'c'], labels: { x: 1 } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first);
      const read = await h.call('GET', `/api/flows/${first.id}`);
      expect(read.body).toEqual(first);
      expect(await count()).toBe(1);
    });

    test('names are case-sensitive: "ETL" and "etl" are two flows', async () => {
      const lower = await flow('etl');
      const upper = await h.call('POST', '/api/flows/', { name: 'ETL' });
      expect(upper.status).toBe(201);
      expect(upper.body.id).not.toBe(lower.id);
      expect(await count()).toBe(2);
    });

    test.each([['a/b'], ['100%'], ['this&that'], ['a>b'], ['a<b'], ['']])(
      'name %p → 422 string_pattern_mismatch at ["body","name"], nothing stored',
      async (name) => {
        const reply = await h.call('POST', '/api/flows/', { name });
        const errors = validation(reply);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ type: 'string_pattern_mismatch', loc: ['body', 'name'], input: name });
        expect(reply.body.request_body).toEqual({ name });
        expect(await count()).toBe(0);
      },
    );

    test.each([['my flow'], ['a:b'], ['back\\slash'], ['a|b'], ['🚀 rocket'], ['a+b'], ['ünïcödé']])(
      'name %p is valid and echoed',
      async (name) => {
        const reply = await h.call('POST', '/api/flows/', { name });
        expect(reply.status).toBe(201);
        expect(reply.body.name).toBe(name);
      },
    );

    test('a missing name → 422 missing at ["body","name"]', async () => {
      const errors = validation(await h.call('POST', '/api/flows/', { tags: ['x'] }));
      expect(errors).toContainEqual(expect.objectContaining({ type: 'missing', loc: ['body', 'name'] }));
      expect(await count()).toBe(0);
    });

    test('a missing body → 422 missing at ["body"]', async () => {
      const reply = await h.call('POST', '/api/flows/');
      const errors = validation(reply);
      expect(errors[0]).toMatchObject({ type: 'missing', loc: ['body'] });
      expect(reply.body.request_body).toBeNull();
    });

    test.each([
      ['colour', 'teal'],
      ['id', '11111111-1111-1111-1111-111111111111'],
      ['created', '2024-09-05T12:00:00Z'],
    ])('an extra key %p → 422 extra_forbidden', async (key, value) => {
      const reply = await h.call('POST', '/api/flows/', { name: 'x', [key]: value });
      const errors = validation(reply);
      expect(errors).toContainEqual(extraForbidden(key, value));
      expect(await count()).toBe(0);
    });

    test('a non-string name or tag → 422 string_type', async () => {
      expect(validation(await h.call('POST', '/api/flows/', { name: 5 }))[0]).toMatchObject({
        type: 'string_type',
        loc: ['body', 'name'],
      });
      expect(validation(await h.call('POST', '/api/flows/', { name: 'x', tags: ['ok', 7] }))[0]).toMatchObject({
        type: 'string_type',
        loc: ['body', 'tags', 1],
      });
    });

    test('labels (HEAD clients) are accepted, stored and returned', async () => {
      const labels = { team: 'data', priority: 3, nested: { on: true, list: [1, 'a', null] } };
      const reply = await h.call('POST', '/api/flows/', { name: 'labelled', labels });
      expect(reply.status).toBe(201);
      expect(reply.body.labels).toEqual(labels);
      expect((await h.call('GET', `/api/flows/${reply.body.id}`)).body.labels).toEqual(labels);
    });

    test('a malformed X-PREFECT-API-VERSION header → 400 before anything else', async () => {
      const reply = await h.call('POST', '/api/flows/', { name: 'x' }, { 'x-prefect-api-version': 'abc' });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        detail: "Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received abc",
      });
      const old = await h.call('POST', '/api/flows/filter', {}, { 'x-prefect-api-version': '0.7.9' });
      expect(old.status).toBe(400);
      expect(old.body).toEqual({
        detail: 'The request specified API version 0.7.9 but this server requires version 0.8.0 or higher.',
      });
      expect(await count()).toBe(0);
      const ok = await h.call('POST', '/api/flows/', { name: 'x' }, { 'x-prefect-api-version': '0.8.4' });
      expect(ok.status).toBe(201);
      for (const [method, path] of [
        ['GET', `/api/flows/${ok.body.id}`],
        ['GET', '/api/flows/name/x'],
        ['DELETE', `/api/flows/${ok.body.id}`],
      ]) {
        expect((await h.call(method!, path!, undefined, { 'x-prefect-api-version': '1.2.3.4' })).status).toBe(400);
      }
      expect((await h.call('GET', `/api/flows/${ok.body.id}`)).status).toBe(200);
    });
  });

  // ── reads ───────────────────────────────────────────────────────────────────────────────────

  describe('GET /api/flows/{id} and /api/flows/name/{name}', () => {
    test('by id answers the stored flow', async () => {
      const f = await flow('reader', { tags: ['t'] });
      const reply = await h.call('GET', `/api/flows/${f.id}`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body)).toEqual(FLOW_FIELDS);
      expect(reply.body).toEqual(f);
    });

    test('by id accepts other UUID spellings', async () => {
      const f = await flow('reader');
      const reply = await h.call('GET', `/api/flows/${f.id.replaceAll('-', '').toUpperCase()}`);
      expect(reply.status).toBe(200);
      expect(reply.body.id).toBe(f.id);
    });

    test('an unknown id → 404 {"detail": "Flow not found"}', async () => {
      const reply = await h.call('GET', `/api/flows/${MISSING_ID}`);
      expectReply(reply, 404, FLOW_NOT_FOUND);
    });

    test('a malformed id → 422 uuid_parsing at ["path","id"]', async () => {
      const errors = validation(await h.call('GET', '/api/flows/not-a-uuid'));
      expect(errors[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'id'], input: 'not-a-uuid' });
    });

    test.each([['plain'], ['my flow: a|b'], ['back\\slash'], ['🚀 rocket'], ['a+b'], ['q?x#y']])(
      'by name %p (URL-encoded path segment) answers the flow',
      async (name) => {
        const f = await flow(name);
        const reply = await h.call('GET', `/api/flows/name/${encodeURIComponent(name)}`);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual(f);
      },
    );

    test('by name is case-sensitive and unknown names → 404 "Flow not found"', async () => {
      await flow('etl');
      for (const name of ['ETL', 'nope', 'etl ']) {
        const reply = await h.call('GET', `/api/flows/name/${encodeURIComponent(name)}`);
        expectReply(reply, 404, FLOW_NOT_FOUND);
      }
    });
  });

  // ── PATCH / DELETE ──────────────────────────────────────────────────────────────────────────

  describe('PATCH /api/flows/{id}', () => {
    test('{tags} → 204 with an empty body, tags replaced', async () => {
      const f = await flow('p', { tags: ['old'] });
      const reply = await h.call('PATCH', `/api/flows/${f.id}`, { tags: ['new', 'newer'] });
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      const read = (await h.call('GET', `/api/flows/${f.id}`)).body;
      expect(read.tags).toEqual(['new', 'newer']);
      expect(read.name).toBe('p');
      expect(read.created).toBe(f.created);
    });

    test('an unknown id → 404 "Flow not found"', async () => {
      const reply = await h.call('PATCH', `/api/flows/${MISSING_ID}`, { tags: [] });
      expectReply(reply, 404, FLOW_NOT_FOUND);
    });

    test('only tags may be patched: name → 422 extra_forbidden', async () => {
      const f = await flow('p');
      const errors = validation(await h.call('PATCH', `/api/flows/${f.id}`, { name: 'q' }));
      expect(errors[0]).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'name'] });
      expect((await h.call('GET', `/api/flows/${f.id}`)).body.name).toBe('p');
    });
  });

  describe('DELETE /api/flows/{id}', () => {
    test('204 with an empty body, then 404 on read and on a second delete', async () => {
      const f = await flow('gone');
      const reply = await h.call('DELETE', `/api/flows/${f.id}`);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect((await h.call('GET', `/api/flows/${f.id}`)).body).toEqual(FLOW_NOT_FOUND);
      expect((await h.call('GET', '/api/flows/name/gone')).status).toBe(404);
      const second = await h.call('DELETE', `/api/flows/${f.id}`);
      expectReply(second, 404, FLOW_NOT_FOUND);
      expect(await count()).toBe(0);
    });

    test('the name is free again after a delete', async () => {
      const f = await flow('again');
      await h.call('DELETE', `/api/flows/${f.id}`);
      const reply = await h.call('POST', '/api/flows/', { name: 'again' });
      expect(reply.status).toBe(201);
      expect(reply.body.id).not.toBe(f.id);
    });

    test('cascades to its deployments, flow runs and their task runs; artifacts and other flows survive', async () => {
      const doomed = await flow('doomed');
      const kept = await flow('kept');
      const dep = await deployment({ name: 'd', flow_id: doomed.id });
      const run = await flowRun({ flow_id: doomed.id, deployment_id: dep.id });
      const task = await taskRun({ flow_run_id: run.id });
      const otherRun = await flowRun({ flow_id: kept.id });
      const otherTask = await taskRun({ flow_run_id: otherRun.id });
      const otherDep = await deployment({ name: 'd', flow_id: kept.id });
      // a sub-flow run of another flow whose parent task run is deleted by the cascade
      const sub = await flowRun({ flow_id: kept.id, parent_task_run_id: task.id });
      const artifact = await h.create({ key: 'survivor', flow_run_id: run.id, task_run_id: task.id });

      expect((await h.call('DELETE', `/api/flows/${doomed.id}`)).status).toBe(204);

      expect((await h.call('GET', `/api/deployments/${dep.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/flow_runs/${run.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/task_runs/${task.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/flows/${kept.id}`)).status).toBe(200);
      expect((await h.call('GET', `/api/flow_runs/${otherRun.id}`)).status).toBe(200);
      expect((await h.call('GET', `/api/task_runs/${otherTask.id}`)).status).toBe(200);
      expect((await h.call('GET', `/api/deployments/${otherDep.id}`)).status).toBe(200);
      const subAfter = await h.call('GET', `/api/flow_runs/${sub.id}`);
      expect(subAfter.status).toBe(200);
      expect(subAfter.body.parent_task_run_id).toBeNull();
      const art = await h.call('GET', `/api/artifacts/${artifact.id}`);
      expect(art.status).toBe(200);
      expect(art.body.flow_run_id).toBe(run.id);
      expect(art.body.task_run_id).toBe(task.id);

      expect((await h.call('POST', '/api/flow_runs/count', {})).body).toBe(2);
      expect((await h.call('POST', '/api/task_runs/count', {})).body).toBe(1);
      expect((await h.call('POST', '/api/deployments/count', {})).body).toBe(1);
    });

    test('a malformed id → 422', async () => {
      validation(await h.call('DELETE', '/api/flows/nope'));
    });
  });

  // ── /flows/filter: sorts and paging ─────────────────────────────────────────────────────────

  describe('POST /api/flows/filter: sorts and paging', () => {
    const NAMES = ['b', 'B', 'a', 'é', '_x', 'A', 'a-1', 'Z'];
    const BYTE_ORDER = ['A', 'B', 'Z', '_x', 'a', 'a-1', 'b', 'é'];

    async function seed() {
      const flows: any[] = [];
      for (const name of NAMES) flows.push(await flow(name));
      return flows;
    }

    test('default order is NAME_ASC in byte order; an empty, absent or null body is {}', async () => {
      await seed();
      expect(await filterNames({})).toEqual(BYTE_ORDER);
      expect(await filterNames(undefined)).toEqual(BYTE_ORDER);
      expect(await filterNames('null')).toEqual(BYTE_ORDER);
      expect(await filterNames({ sort: null, limit: null, offset: null, flows: null })).toEqual(BYTE_ORDER);
      expect(await filterNames({ sort: 'NAME_ASC' })).toEqual(BYTE_ORDER);
    });

    test('NAME_DESC is the reverse byte order', async () => {
      await seed();
      expect(await filterNames({ sort: 'NAME_DESC' })).toEqual([...BYTE_ORDER].reverse());
    });

    test('CREATED_DESC and UPDATED_DESC: newest first', async () => {
      await seed();
      expect(await filterNames({ sort: 'CREATED_DESC' })).toEqual([...NAMES].reverse());
      expect(await filterNames({ sort: 'UPDATED_DESC' })).toEqual([...NAMES].reverse());
    });

    test('full Flow objects are returned', async () => {
      const flows = await seed();
      const reply = await h.call('POST', '/api/flows/filter', { sort: 'CREATED_DESC', limit: 1 });
      expect(reply.body).toEqual([flows[flows.length - 1]]);
      expect(Object.keys(reply.body[0])).toEqual(FLOW_FIELDS);
    });

    test('an unknown sort → 422 enum at ["body","sort"]', async () => {
      for (const sort of ['ID_DESC', 'name_asc', 'KEY_ASC']) {
        const errors = validation(await h.call('POST', '/api/flows/filter', { sort }));
        expect(errors[0]).toMatchObject({ type: 'enum', loc: ['body', 'sort'] });
      }
    });

    test('limit and offset page through the sorted list', async () => {
      await seed();
      expect(await filterNames({ limit: 3 })).toEqual(BYTE_ORDER.slice(0, 3));
      expect(await filterNames({ limit: 3, offset: 3 })).toEqual(BYTE_ORDER.slice(3, 6));
      expect(await filterNames({ offset: 6 })).toEqual(BYTE_ORDER.slice(6));
      expect(await filterNames({ offset: 100 })).toEqual([]);
      expect(await filterNames({ limit: 0 })).toEqual([]);
      expect(await filterNames({ limit: 2, sort: 'NAME_DESC', offset: 1 })).toEqual(['b', 'a-1']);
    });

    test('limit out of range → 422 with the limit texts; offset −1 → 422 greater_than_equal', async () => {
      limitRejected(await h.call('POST', '/api/flows/filter', { limit: 201 }), LIMIT_MAX);
      limitRejected(await h.call('POST', '/api/flows/filter', { limit: -1 }), LIMIT_MIN);
      const masked = await h.call('POST', '/api/flows/filter', { limit: 201, sort: 'NOPE' });
      expect(masked.body).toEqual(LIMIT_MAX);
      expect(validation(await h.call('POST', '/api/flows/filter', { offset: -1 }))[0]).toMatchObject({
        type: 'greater_than_equal',
        loc: ['body', 'offset'],
      });
      expect((await h.call('POST', '/api/flows/filter', { limit: 200 })).status).toBe(200);
    });

    test('the configured default limit is the default and the maximum', async () => {
      await h.close();
      h = await harness({ defaultLimit: 3 }, backend);
      await seed();
      expect(await filterNames({})).toEqual(BYTE_ORDER.slice(0, 3));
      const over = await h.call('POST', '/api/flows/filter', { limit: 4 });
      expect(over.status).toBe(422);
      expect(over.body).toEqual({ detail: 'Invalid limit: must be less than or equal to 3.' });
    });

    test('unknown top-level keys are ignored; a non-object body → 422', async () => {
      await seed();
      expect(await filterNames({ colour: 'teal' })).toEqual(BYTE_ORDER);
      validation(await h.call('POST', '/api/flows/filter', []));
    });
  });

  // ── /flows/filter and /flows/count: filters ─────────────────────────────────────────────────

  describe('POST /api/flows/filter and /count: filters', () => {
    /**
     * alpha: tags [etl, prod]; deployment "d-a"; runs: a1 COMPLETED (no task runs), a2 RUNNING with a task run
     * beta:  tags [etl];       no deployment;     runs: b1 FAILED with a task run
     * gamma: tags [];          deployment "d-g" (paused); no runs
     * delta: tags [prod];      nothing
     */
    async function seed() {
      const alpha = await flow('alpha', { tags: ['etl', 'prod'] });
      const beta = await flow('beta', { tags: ['etl'] });
      const gamma = await flow('gamma');
      const delta = await flow('delta', { tags: ['prod'] });
      const depA = await deployment({ name: 'd-a', flow_id: alpha.id, tags: ['x'] });
      const depG = await deployment({ name: 'd-g', flow_id: gamma.id, paused: true });
      const a1 = await flowRun({ flow_id: alpha.id, state: { type: 'COMPLETED' }, tags: ['one'] });
      const a2 = await flowRun({ flow_id: alpha.id, state: { type: 'RUNNING' }, deployment_id: depA.id });
      const ta2 = await taskRun({ flow_run_id: a2.id, task_key: 'extract' });
      const b1 = await flowRun({ flow_id: beta.id, state: { type: 'FAILED' }, tags: ['one'] });
      const tb1 = await taskRun({ flow_run_id: b1.id, task_key: 'load', state: { type: 'COMPLETED' } });
      return { alpha, beta, gamma, delta, depA, depG, a1, a2, ta2, b1, tb1 };
    }

    const both = async (body: Record<string, unknown>) => {
      const names = await filterNames(body);
      expect(await count(body)).toBe(names.length);
      return names;
    };

    test('count of everything is a bare integer', async () => {
      await seed();
      const reply = await h.call('POST', '/api/flows/count', {});
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('4');
      expect((await h.call('POST', '/api/flows/count')).body).toBe(4);
    });

    test('count ignores sort/limit/offset', async () => {
      await seed();
      expect(await count({ sort: 'NOPE', limit: 500, offset: -1 })).toBe(4);
    });

    test('flows: id.any_, id.not_any_ (HEAD), name.any_, name.like_, tags.all_, tags.is_null_', async () => {
      const s = await seed();
      expect(await both({ flows: { id: { any_: [s.beta.id, MISSING_ID] } } })).toEqual(['beta']);
      expect(await both({ flows: { id: { any_: [] } } })).toEqual([]);
      expect(await both({ flows: { id: { not_any_: [s.beta.id, s.gamma.id] } } })).toEqual(['alpha', 'delta']);
      expect(await both({ flows: { id: { not_any_: [] } } })).toEqual(['alpha', 'beta', 'delta', 'gamma']);
      expect(await both({ flows: { name: { any_: ['gamma', 'Gamma', 'zeta'] } } })).toEqual(['gamma']);
      expect(await both({ flows: { name: { like_: 'ELT' } } })).toEqual(['delta']);
      expect(await both({ flows: { name: { like_: 'a_p' } } })).toEqual(['alpha']);
      expect(await both({ flows: { tags: { all_: ['etl'] } } })).toEqual(['alpha', 'beta']);
      expect(await both({ flows: { tags: { all_: ['etl', 'prod'] } } })).toEqual(['alpha']);
      expect(await both({ flows: { tags: { is_null_: true } } })).toEqual(['gamma']);
      expect(await both({ flows: { tags: { is_null_: false } } })).toEqual(['alpha', 'beta', 'delta']);
      expect(
        await both({ flows: { operator: 'or_', name: { any_: ['gamma'] }, tags: { all_: ['prod'] } } }),
      ).toEqual(['alpha', 'delta', 'gamma']);
    });

    test('flows.deployment.is_null_: true → flows without deployments, false → with', async () => {
      await seed();
      expect(await both({ flows: { deployment: { is_null_: true } } })).toEqual(['beta', 'delta']);
      expect(await both({ flows: { deployment: { is_null_: false } } })).toEqual(['alpha', 'gamma']);
    });

    test('{} sub-filters mean "has at least one": flow_runs, task_runs, deployments', async () => {
      await seed();
      expect(await both({ flows: {} })).toEqual(['alpha', 'beta', 'delta', 'gamma']);
      expect(await both({ flow_runs: {} })).toEqual(['alpha', 'beta']);
      expect(await both({ task_runs: {} })).toEqual(['alpha', 'beta']);
      expect(await both({ deployments: {} })).toEqual(['alpha', 'gamma']);
      expect(await both({ flow_runs: {}, deployments: {} })).toEqual(['alpha']);
    });

    test('flow_runs: some run of the flow matches', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { state: { type: { any_: ['FAILED'] } } } })).toEqual(['beta']);
      expect(await both({ flow_runs: { state: { type: { any_: ['COMPLETED', 'RUNNING'] } } } })).toEqual(['alpha']);
      expect(await both({ flow_runs: { tags: { all_: ['one'] } } })).toEqual(['alpha', 'beta']);
      expect(await both({ flow_runs: { id: { any_: [s.b1.id] } } })).toEqual(['beta']);
      expect(await both({ flow_runs: { deployment_id: { any_: [s.depA.id] } } })).toEqual(['alpha']);
      expect(await both({ flow_runs: { state: { type: { any_: ['SCHEDULED'] } } } })).toEqual([]);
    });

    test('flow_runs + task_runs must be satisfied by the same flow run', async () => {
      await seed();
      // alpha's COMPLETED run has no task runs; its RUNNING run has one
      expect(await both({ flow_runs: { state: { type: { any_: ['COMPLETED'] } } }, task_runs: {} })).toEqual([]);
      expect(await both({ flow_runs: { state: { type: { any_: ['RUNNING'] } } }, task_runs: {} })).toEqual(['alpha']);
      expect(await both({ task_runs: { name: { any_: ['no-such-task'] } } })).toEqual([]);
      expect(await both({ task_runs: { state: { type: { any_: ['COMPLETED'] } } } })).toEqual(['beta']);
      expect(await both({ task_runs: { state: { type: { any_: ['PENDING'] } } } })).toEqual(['alpha']);
    });

    test('deployments: some deployment of the flow matches', async () => {
      await seed();
      expect(await both({ deployments: { paused: { eq_: true } } })).toEqual(['gamma']);
      expect(await both({ deployments: { name: { any_: ['d-a'] } } })).toEqual(['alpha']);
      expect(await both({ deployments: { tags: { all_: ['x'] } } })).toEqual(['alpha']);
      expect(await both({ deployments: { name: { any_: ['nope'] } } })).toEqual([]);
    });

    test('all parts are ANDed', async () => {
      await seed();
      expect(await both({ flows: { tags: { all_: ['etl'] } }, deployments: {} })).toEqual(['alpha']);
      expect(await both({ flows: { tags: { all_: ['etl'] } }, flow_runs: { state: { type: { any_: ['FAILED'] } } } })).toEqual([
        'beta',
      ]);
      expect(await both({ flows: { name: { any_: ['gamma'] } }, flow_runs: {} })).toEqual([]);
    });

    test('runs deleted later stop counting', async () => {
      const s = await seed();
      expect((await h.call('DELETE', `/api/flow_runs/${s.b1.id}`)).status).toBe(204);
      expect(await both({ flow_runs: {} })).toEqual(['alpha']);
      expect(await both({ task_runs: {} })).toEqual(['alpha']);
    });

    test('null sub-filters add no condition', async () => {
      await seed();
      expect(
        await both({ flows: null, flow_runs: null, task_runs: null, deployments: null, work_pools: null }),
      ).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    });

    test('a non-null work_pools filter → 501 with a JSON detail naming it', async () => {
      await seed();
      for (const route of ['/api/flows/filter', '/api/flows/count']) {
        const reply = await h.call('POST', route, { work_pools: {} });
        expect(reply.status).toBe(501);
        expect(reply.headers.get('content-type')).toContain('application/json');
        expect(typeof reply.body.detail).toBe('string');
        expect(reply.body.detail).toContain('work_pools');
      }
    });

    test('invalid filter content → 422 with a located error', async () => {
      expect(validation(await h.call('POST', '/api/flows/filter', { flows: { colour: 1 } }))[0]).toMatchObject({
        type: 'extra_forbidden',
        loc: ['body', 'flows', 'colour'],
      });
      expect(
        validation(await h.call('POST', '/api/flows/filter', { flows: { id: { any_: ['nope'] } } }))[0],
      ).toMatchObject({ type: 'uuid_parsing', loc: ['body', 'flows', 'id', 'any_', 0] });
      expect(
        validation(await h.call('POST', '/api/flows/count', { flow_runs: { state: { type: { any_: ['DONE'] } } } }))[0],
      ).toMatchObject({ type: 'enum', loc: ['body', 'flow_runs', 'state', 'type', 'any_', 0] });
      expect(
        validation(await h.call('POST', '/api/flows/filter', { flows: { name: { operator: 'or_' } } }))[0],
      ).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'flows', 'name', 'operator'] });
    });
  });
});
