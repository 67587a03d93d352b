/**
 * HTTP behaviour of the task-run routes (shared/spec/companions.md §1 state model and §4 task
 * runs, with artifacts-api.md §1–3 and §7): create-or-fetch, client ids, links, validation of
 * cache keys and the retry policy, task inputs, the response shape, read, filter (sorts,
 * filters, the task-run-centric combination), count and delete.
 */
import { describe, expect, test } from 'bun:test';
import { freshHarness } from './fresh-harness.ts';
import { byIdDesc, creators, readers, stable } from './companions.ts';
import { INTEGRITY, LIMIT_MAX, UUID_RE, expectReply, extraForbidden, limitRejected, nearNow, rawField, validation } from './expect.ts';
import { MISSING_ID, SLUG_RE, STATE_DETAILS_FIELDS, STATE_FIELDS } from './fields.ts';
import { describeBackends } from '../backends.ts';

const TASK_RUN_FIELDS = [
  'id',
  'created',
  'updated',
  'name',
  'flow_run_id',
  'task_key',
  'dynamic_key',
  'cache_key',
  'cache_expiration',
  'task_version',
  'empirical_policy',
  'tags',
  'state_id',
  'task_inputs',
  'state_type',
  'state_name',
  'run_count',
  'flow_run_run_count',
  'expected_start_time',
  'next_scheduled_start_time',
  'start_time',
  'end_time',
  'total_run_time',
  'estimated_run_time',
  'estimated_start_time_delta',
  'state',
  'labels',
];
const DEFAULT_POLICY = {
  max_retries: 0,
  retry_delay_seconds: 0,
  retries: null,
  retry_delay: null,
  retry_jitter_factor: null,
};
const TASK_NOT_FOUND = { detail: 'Task not found' };
const CLIENT_ID = '5b0e8c1a-7d2f-4e3a-9b6c-0d1e2f3a4b5c';

describeBackends('task runs', (backend) => {
  const h = freshHarness({}, backend);

  const { flow, flowRun, taskRun } = creators(() => h);
  const { read, count, filterIds, rejectsSort } = readers(() => h, '/api/task_runs');

  async function runOf(flowName = 'f', extra: Record<string, unknown> = {}): Promise<any> {
    const f = await flow(flowName);
    return flowRun({ flow_id: f.id, ...extra });
  }

  const post = (body: Record<string, unknown>) => h.call('POST', '/api/task_runs/', body);

  // ── create ──────────────────────────────────────────────────────────────────────────────────

  describe('POST /api/task_runs/: shape and defaults', () => {
    test('201 with every field in Prefect order plus trailing labels; PENDING by default', async () => {
      const run = await runOf();
      const before = Date.now();
      const reply = await post({ flow_run_id: run.id, task_key: 'extract', dynamic_key: '0' });
      expect(reply.status).toBe(201);
      expect(reply.headers.get('content-type')).toContain('application/json');
      const t = reply.body;
      expect(Object.keys(t)).toEqual(TASK_RUN_FIELDS);
      expect(t.id).toMatch(UUID_RE);
      nearNow(t.created, before);
      expect(t.name).toMatch(SLUG_RE);
      expect(t).toMatchObject({
        flow_run_id: run.id,
        task_key: 'extract',
        dynamic_key: '0',
        cache_key: null,
        cache_expiration: null,
        task_version: null,
        empirical_policy: DEFAULT_POLICY,
        tags: [],
        task_inputs: {},
        state_type: 'PENDING',
        state_name: 'Pending',
        run_count: 0,
        next_scheduled_start_time: null,
        start_time: null,
        end_time: null,
        total_run_time: 0,
        estimated_run_time: 0,
        labels: {},
      });
      expect(Object.keys(t.empirical_policy)).toEqual(Object.keys(DEFAULT_POLICY));
      expect(t.flow_run_run_count).toBe(0);
      expect(Object.keys(t.state)).toEqual(STATE_FIELDS);
      expect(Object.keys(t.state.state_details)).toEqual(STATE_DETAILS_FIELDS);
      expect(t.state_id).toBe(t.state.id);
      expect(t.state.type).toBe('PENDING');
      expect(t.state.name).toBe('Pending');
      nearNow(t.state.timestamp, before);
      expect(t.expected_start_time).toBe(t.state.timestamp);
      expect(t.state.state_details.task_run_id).toBe(t.id);
      expect(t.state.state_details.flow_run_id).toBe(run.id);
      expect(rawField(reply.text, 'total_run_time')).toBe('0.0');
      expect(rawField(reply.text, 'estimated_run_time')).toBe('0.0');
      expect(rawField(reply.text, 'retry_delay_seconds')).toBe('0.0');
    });

    test('supplied fields round-trip', async () => {
      const run = await runOf();
      const body = {
        flow_run_id: run.id,
        task_key: 'transform-abc123',
        dynamic_key: '7',
        name: 'transform-7',
        cache_key: 'cache-me',
        cache_expiration: '2030-01-01T00:00:00.500000Z',
        task_version: 'v2',
        tags: ['a', 'b'],
        labels: { owner: 'ops', retries: 3 },
        empirical_policy: { retries: 2, retry_delay: [1, 2, 3], retry_jitter_factor: 0.5 },
      };
      const reply = await post(body);
      expect(reply.status).toBe(201);
      const { empirical_policy, ...rest } = body;
      expect(reply.body).toMatchObject(rest);
      expect(reply.body.empirical_policy).toEqual({ ...DEFAULT_POLICY, ...empirical_policy });
      expect(stable(await read(reply.body.id))).toEqual(stable(reply.body));
    });

    test('task_inputs of all three kinds round-trip', async () => {
      const run = await runOf();
      const upstream = await taskRun({ flow_run_id: run.id, task_key: 'up' });
      const task_inputs = {
        x: [{ input_type: 'task_run', id: upstream.id }],
        y: [{ input_type: 'parameter', name: 'p' }],
        z: [{ input_type: 'constant', type: 'int' }],
        both: [
          { input_type: 'parameter', name: 'q' },
          { input_type: 'task_run', id: upstream.id },
        ],
        none: [],
      };
      const t = await taskRun({ flow_run_id: run.id, task_key: 'down', task_inputs });
      expect(t.task_inputs).toEqual(task_inputs);
      expect((await read(t.id)).task_inputs).toEqual(task_inputs);
    });

    test('a bad task input → 422', async () => {
      const reply = await post({ task_key: 'k', dynamic_key: '0', task_inputs: { x: [{ input_type: 'bogus' }] } });
      validation(reply);
      expect(await count()).toBe(0);
    });

    test.each([[{}], [{ name: '' }], [{ name: null }]])('name from %p → a random slug', async (extra) => {
      const t = await taskRun({ ...extra });
      expect(t.name).toMatch(SLUG_RE);
    });

    test('RUNNING counts run_count and sets start_time = expected_start_time', async () => {
      const run = await runOf();
      const t = await taskRun({ flow_run_id: run.id, state: { type: 'RUNNING' } });
      expect(t.state_type).toBe('RUNNING');
      expect(t.state_name).toBe('Running');
      expect(t.run_count).toBe(1);
      expect(t.start_time).toBe(t.state.timestamp);
      expect(t.expected_start_time).toBe(t.state.timestamp);
    });

    test('SCHEDULED with a time sets next_scheduled_start_time and expected_start_time', async () => {
      const t = await taskRun({
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-02-03T04:05:06Z' } },
      });
      expect(t.next_scheduled_start_time).toBe('2030-02-03T04:05:06Z');
      expect(t.expected_start_time).toBe('2030-02-03T04:05:06Z');
      expect(t.state.state_details.scheduled_time).toBe('2030-02-03T04:05:06Z');
      expect(t.run_count).toBe(0);
    });

    test('COMPLETED at creation leaves start_time and end_time null; custom name and message kept', async () => {
      const t = await taskRun({ state: { type: 'COMPLETED', name: 'Cached', message: 'from cache' } });
      expect(t.state_type).toBe('COMPLETED');
      expect(t.state_name).toBe('Cached');
      expect(t.state.message).toBe('from cache');
      expect(t.start_time).toBeNull();
      expect(t.end_time).toBeNull();
    });

    test('a timestamp in the state → 422 extra_forbidden', async () => {
      const errors = validation(
        await post({ task_key: 'k', dynamic_key: '0', state: { type: 'RUNNING', timestamp: '2020-01-01T00:00:00Z' } }),
      );
      expect(errors[0]).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'state', 'timestamp'] });
    });

    test('without a flow run: flow_run_id null, state_details.flow_run_id null', async () => {
      const t = await taskRun({ flow_run_id: null });
      expect(t.flow_run_id).toBeNull();
      expect(t.state.state_details.flow_run_id).toBeNull();
      expect(t.state.state_details.task_run_id).toBe(t.id);
    });
  });

  describe('POST /api/task_runs/: create-or-fetch', () => {
    test('same (flow_run_id, task_key, dynamic_key) → 200 with the original; state and tags ignored', async () => {
      const run = await runOf();
      const first = await taskRun({ flow_run_id: run.id, task_key: 'a', dynamic_key: '1', tags: ['orig'] });
      const again = await post({
        flow_run_id: run.id,
        task_key: 'a',
        dynamic_key: '1',
        tags: ['new'],
        state: { type: 'RUNNING' },
        name: 'other',
      });
      expect(again.status).toBe(200);
      expect(stable(again.body)).toEqual(stable(first));
      expect(again.body.state_type).toBe('PENDING');
      expect(again.body.tags).toEqual(['orig']);
      expect(await count()).toBe(1);
    });

    test('a different dynamic_key, task_key or flow run makes a new task run', async () => {
      const run = await runOf('one');
      const run2 = await runOf('two');
      await taskRun({ flow_run_id: run.id, task_key: 'a', dynamic_key: '1' });
      for (const body of [
        { flow_run_id: run.id, task_key: 'a', dynamic_key: '2' },
        { flow_run_id: run.id, task_key: 'b', dynamic_key: '1' },
        { flow_run_id: run2.id, task_key: 'a', dynamic_key: '1' },
        { task_key: 'a', dynamic_key: '1' },
      ]) {
        expect((await post(body)).status).toBe(201);
      }
      expect(await count()).toBe(5);
    });

    test('without flow_run_id: same (task_key, dynamic_key) with a null flow run → 200 with the original', async () => {
      const first = await taskRun({ task_key: 'bg', dynamic_key: 'x', flow_run_id: null });
      const again = await post({ task_key: 'bg', dynamic_key: 'x', state: { type: 'RUNNING' }, tags: ['t'] });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.id);
      expect(again.body.state_type).toBe('PENDING');
      expect(again.body.tags).toEqual([]);
      // a task run of a flow run with the same keys is a different one
      const run = await runOf();
      const bound = await post({ task_key: 'bg', dynamic_key: 'x', flow_run_id: run.id });
      expect(bound.status).toBe(201);
      expect(bound.body.id).not.toBe(first.id);
    });

    test('a client-provided id is honoured', async () => {
      const run = await runOf();
      const reply = await post({ id: CLIENT_ID, flow_run_id: run.id, task_key: 'k', dynamic_key: '0' });
      expect(reply.status).toBe(201);
      expect(reply.body.id).toBe(CLIENT_ID);
      expect((await read(CLIENT_ID)).task_key).toBe('k');
    });

    test('the same client id for a different task run → 409, nothing stored', async () => {
      const run = await runOf();
      expect((await post({ id: CLIENT_ID, flow_run_id: run.id, task_key: 'k', dynamic_key: '0' })).status).toBe(201);
      const clash = await post({ id: CLIENT_ID, flow_run_id: run.id, task_key: 'k', dynamic_key: '1' });
      expect(clash.status).toBe(409);
      expect(clash.headers.get('content-type')).toContain('application/json');
      expect(typeof clash.body.detail).toBe('string');
      expect(await count()).toBe(1);
      expect((await read(CLIENT_ID)).dynamic_key).toBe('0');
    });

    test('an unknown flow_run_id → 409 with the data-integrity text', async () => {
      const reply = await post({ flow_run_id: MISSING_ID, task_key: 'k', dynamic_key: '0' });
      expectReply(reply, 409, INTEGRITY);
      expect(await count()).toBe(0);
    });
  });

  describe('POST /api/task_runs/: validation', () => {
    test.each([['task_key'], ['dynamic_key']])('%s is required', async (field) => {
      const body: Record<string, unknown> = { task_key: 'k', dynamic_key: '0' };
      delete body[field];
      const errors = validation(await post(body));
      expect(errors).toContainEqual(expect.objectContaining({ type: 'missing', loc: ['body', field] }));
    });

    test('cache_key of 2000 characters is fine, 2001 → 422', async () => {
      const ok = await post({ task_key: 'k', dynamic_key: '0', cache_key: 'c'.repeat(2000) });
      expect(ok.status).toBe(201);
      expect(ok.body.cache_key).toHaveLength(2000);
      const tooLong = await post({ task_key: 'k', dynamic_key: '1', cache_key: 'c'.repeat(2001) });
      const errors = validation(tooLong);
      expect(errors[0].loc).toEqual(['body', 'cache_key']);
      expect(await count()).toBe(1);
    });

    test('50 retry delays are fine; 51 → 422 "Can not configure more than 50 retry delays per task."', async () => {
      const ok = await post({ task_key: 'k', dynamic_key: '0', empirical_policy: { retries: 3, retry_delay: Array(50).fill(1) } });
      expect(ok.status).toBe(201);
      const bad = await post({ task_key: 'k', dynamic_key: '1', empirical_policy: { retries: 3, retry_delay: Array(51).fill(1) } });
      const errors = validation(bad);
      expect(errors[0].msg).toContain('Can not configure more than 50 retry delays per task.');
      expect(errors[0].loc.slice(0, 2)).toEqual(['body', 'empirical_policy']);
      expect(await count()).toBe(1);
    });

    test('an integer retry_delay is fine', async () => {
      const t = await taskRun({ empirical_policy: { retries: 1, retry_delay: 10 } });
      expect(t.empirical_policy.retry_delay).toBe(10);
    });

    test('a negative retry_jitter_factor → 422; zero is fine', async () => {
      const errors = validation(
        await post({ task_key: 'k', dynamic_key: '0', empirical_policy: { retries: 3, retry_jitter_factor: -1 } }),
      );
      expect(errors[0].loc.slice(0, 2)).toEqual(['body', 'empirical_policy']);
      const ok = await post({ task_key: 'k', dynamic_key: '0', empirical_policy: { retry_jitter_factor: 0 } });
      expect(ok.status).toBe(201);
    });

    test.each([
      ['colour', 'teal'],
      ['flow_run_run_count', 1],
      ['state_type', 'RUNNING'],
    ])('an unknown key %p → 422 extra_forbidden', async (key, value) => {
      const errors = validation(await post({ task_key: 'k', dynamic_key: '0', [key]: value }));
      expect(errors).toContainEqual(extraForbidden(key, value));
      expect(await count()).toBe(0);
    });

    test('a malformed id or flow_run_id → 422 uuid_parsing', async () => {
      expect(validation(await post({ task_key: 'k', dynamic_key: '0', id: 'nope' }))[0]).toMatchObject({
        type: 'uuid_parsing',
        loc: ['body', 'id'],
      });
      expect(validation(await post({ task_key: 'k', dynamic_key: '0', flow_run_id: 'nope' }))[0]).toMatchObject({
        type: 'uuid_parsing',
        loc: ['body', 'flow_run_id'],
      });
    });

    test('a malformed X-PREFECT-API-VERSION → 400', async () => {
      const reply = await h.call('POST', '/api/task_runs/', { task_key: 'k', dynamic_key: '0' }, { 'x-prefect-api-version': '0.8.a' });
      expect(reply.status).toBe(400);
      expect(reply.body.detail).toContain('Invalid X-PREFECT-API-VERSION header format.');
      expect(await count()).toBe(0);
    });
  });

  // ── GET / DELETE ────────────────────────────────────────────────────────────────────────────

  describe('GET /api/task_runs/{id}', () => {
    test('answers the stored task run', async () => {
      const t = await taskRun({ tags: ['x'] });
      const reply = await h.call('GET', `/api/task_runs/${t.id}`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body)).toEqual(TASK_RUN_FIELDS);
      expect(stable(reply.body)).toEqual(stable(t));
    });

    test('an unknown id → 404 {"detail": "Task not found"}; a malformed one → 422', async () => {
      const reply = await h.call('GET', `/api/task_runs/${MISSING_ID}`);
      expectReply(reply, 404, TASK_NOT_FOUND);
      expect(validation(await h.call('GET', '/api/task_runs/nope'))[0]).toMatchObject({
        type: 'uuid_parsing',
        loc: ['path', 'id'],
      });
    });
  });

  describe('DELETE /api/task_runs/{id}', () => {
    test('204 empty, then 404 "Task not found"', async () => {
      const t = await taskRun({});
      const reply = await h.call('DELETE', `/api/task_runs/${t.id}`);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect((await h.call('GET', `/api/task_runs/${t.id}`)).body).toEqual(TASK_NOT_FOUND);
      const again = await h.call('DELETE', `/api/task_runs/${t.id}`);
      expectReply(again, 404, TASK_NOT_FOUND);
    });

    test('a sub-flow run pointing at it gets parent_task_run_id null; its flow run and artifacts stay', async () => {
      const f = await flow();
      const parent = await flowRun({ flow_id: f.id });
      const t = await taskRun({ flow_run_id: parent.id });
      const sub = await flowRun({ flow_id: f.id, parent_task_run_id: t.id });
      const artifact = await h.create({ key: 'k', task_run_id: t.id });
      expect((await h.call('DELETE', `/api/task_runs/${t.id}`)).status).toBe(204);
      const subNow = await h.call('GET', `/api/flow_runs/${sub.id}`);
      expect(subNow.status).toBe(200);
      expect(subNow.body.parent_task_run_id).toBeNull();
      expect((await h.call('GET', `/api/flow_runs/${parent.id}`)).status).toBe(200);
      expect((await h.call('GET', `/api/artifacts/${artifact.id}`)).body.task_run_id).toBe(t.id);
    });

    test('the same keys can be used again after a delete', async () => {
      const t = await taskRun({ task_key: 'again', dynamic_key: '0' });
      await h.call('DELETE', `/api/task_runs/${t.id}`);
      const reply = await post({ task_key: 'again', dynamic_key: '0' });
      expect(reply.status).toBe(201);
      expect(reply.body.id).not.toBe(t.id);
    });
  });

  // ── filter / count ──────────────────────────────────────────────────────────────────────────

  describe('POST /api/task_runs/filter: sorts and paging', () => {
    /**
     * t1 "delta"   PENDING at t1           expected t1
     * t2 "alpha"   SCHEDULED for 2030      expected 2030, next 2030
     * t3 "charlie" SCHEDULED for 2020      expected 2020, next 2020
     * t4 "bravo"   RUNNING at t4           expected t4
     */
    async function seed() {
      const t1 = await taskRun({ name: 'delta', dynamic_key: '1' });
      const t2 = await taskRun({
        name: 'alpha',
        dynamic_key: '2',
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } },
      });
      const t3 = await taskRun({
        name: 'charlie',
        dynamic_key: '3',
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2020-01-01T00:00:00Z' } },
      });
      const t4 = await taskRun({ name: 'bravo', dynamic_key: '4', state: { type: 'RUNNING' } });
      return { t1, t2, t3, t4, all: [t1.id, t2.id, t3.id, t4.id] };
    }

    test('default ID_DESC', async () => {
      const s = await seed();
      expect(await filterIds({})).toEqual(byIdDesc(s.all));
      expect(await filterIds(undefined)).toEqual(byIdDesc(s.all));
      expect(await filterIds({ sort: 'ID_DESC' })).toEqual(byIdDesc(s.all));
    });

    test('EXPECTED_START_TIME_ASC / _DESC', async () => {
      const { t1, t2, t3, t4 } = await seed();
      const asc = [t3.id, t1.id, t4.id, t2.id];
      expect(await filterIds({ sort: 'EXPECTED_START_TIME_ASC' })).toEqual(asc);
      expect(await filterIds({ sort: 'EXPECTED_START_TIME_DESC' })).toEqual([...asc].reverse());
    });

    test('NAME_ASC / NAME_DESC', async () => {
      const { t1, t2, t3, t4 } = await seed();
      const asc = [t2.id, t4.id, t3.id, t1.id];
      expect(await filterIds({ sort: 'NAME_ASC' })).toEqual(asc);
      expect(await filterIds({ sort: 'NAME_DESC' })).toEqual([...asc].reverse());
    });

    test('NEXT_SCHEDULED_START_TIME_ASC: NULLs first by id descending, then by time', async () => {
      const { t1, t2, t3, t4 } = await seed();
      expect(await filterIds({ sort: 'NEXT_SCHEDULED_START_TIME_ASC' })).toEqual([...byIdDesc([t1.id, t4.id]), t3.id, t2.id]);
    });

    test('END_TIME_DESC: all NULL here, so id descending', async () => {
      const s = await seed();
      expect(await filterIds({ sort: 'END_TIME_DESC' })).toEqual(byIdDesc(s.all));
    });

    test('an unknown sort → 422 enum (START_TIME_* is a flow-run sort only)', async () => {
      for (const sort of ['START_TIME_ASC', 'CREATED_DESC', 'name_asc']) {
        await rejectsSort(sort);
      }
    });

    test('limit and offset', async () => {
      const s = await seed();
      const all = byIdDesc(s.all);
      expect(await filterIds({ limit: 2 })).toEqual(all.slice(0, 2));
      expect(await filterIds({ limit: 2, offset: 1 })).toEqual(all.slice(1, 3));
      expect(await filterIds({ offset: 4 })).toEqual([]);
      expect(await filterIds({ limit: 0 })).toEqual([]);
      limitRejected(await h.call('POST', '/api/task_runs/filter', { limit: 201 }), LIMIT_MAX);
    });

    test('full TaskRun objects are returned', async () => {
      const s = await seed();
      const reply = await h.call('POST', '/api/task_runs/filter', { task_runs: { id: { any_: [s.t4.id] } } });
      expect(reply.body).toHaveLength(1);
      expect(Object.keys(reply.body[0])).toEqual(TASK_RUN_FIELDS);
      expect(stable(reply.body[0])).toEqual(stable(s.t4));
    });
  });

  describe('POST /api/task_runs/filter and /count: filters', () => {
    /**
     * flows: etl, ml; deployment D of etl
     * flow runs: ra (etl, deployment D, tags [nightly], COMPLETED), rb (ml, dangling deployment, RUNNING)
     * task runs: a1 in ra (COMPLETED, tags [x]), a2 in ra (PENDING), b1 in rb (RUNNING, tags [x, y]),
     *            free (no flow run, SCHEDULED 2030), sub-flow run rs of a1
     */
    async function seed() {
      const etl = await flow('etl');
      const ml = await flow('ml');
      const dep = await h.call('POST', '/api/deployments/', { name: 'D', flow_id: etl.id });
      expect(dep.status).toBe(201);
      const ra = await flowRun({ flow_id: etl.id, deployment_id: dep.body.id, tags: ['nightly'], state: { type: 'COMPLETED' } });
      const rb = await flowRun({ flow_id: ml.id, deployment_id: MISSING_ID, state: { type: 'RUNNING' } });
      const a1 = await taskRun({ flow_run_id: ra.id, name: 'extract-1', task_key: 'extract', state: { type: 'COMPLETED' }, tags: ['x'] });
      const a2 = await taskRun({ flow_run_id: ra.id, name: 'load-1', task_key: 'load' });
      const b1 = await taskRun({ flow_run_id: rb.id, name: 'extract-2', task_key: 'extract', state: { type: 'RUNNING' }, tags: ['x', 'y'] });
      const free = await taskRun({
        name: 'free',
        task_key: 'bg',
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } },
      });
      const rs = await flowRun({ flow_id: ml.id, parent_task_run_id: a1.id });
      return { etl, ml, dep: dep.body, ra, rb, rs, a1, a2, b1, free };
    }

    const both = async (body: unknown) => {
      const ids = await filterIds(body);
      expect(await count(body)).toBe(ids.length);
      return [...ids].sort();
    };
    const ids = (...runs: any[]) => runs.map((r) => r.id).sort();

    test('count is a bare integer and ignores paging', async () => {
      await seed();
      const reply = await h.call('POST', '/api/task_runs/count', {});
      expect(reply.text).toBe('4');
      expect(await count({ limit: -5, sort: 'NOPE' })).toBe(4);
    });

    test('task_runs: id, name, tags, state, start_time, expected_start_time, subflow_runs, end_time (HEAD)', async () => {
      const s = await seed();
      expect(await both({ task_runs: { id: { any_: [s.a1.id, s.free.id] } } })).toEqual(ids(s.a1, s.free));
      expect(await both({ task_runs: { name: { any_: ['load-1'] } } })).toEqual(ids(s.a2));
      expect(await both({ task_runs: { name: { like_: 'EXTRACT' } } })).toEqual(ids(s.a1, s.b1));
      expect(await both({ task_runs: { tags: { all_: ['x'] } } })).toEqual(ids(s.a1, s.b1));
      expect(await both({ task_runs: { tags: { all_: ['x', 'y'] } } })).toEqual(ids(s.b1));
      expect(await both({ task_runs: { tags: { is_null_: true } } })).toEqual(ids(s.a2, s.free));
      expect(await both({ task_runs: { state: { type: { any_: ['RUNNING', 'SCHEDULED'] } } } })).toEqual(ids(s.b1, s.free));
      expect(await both({ task_runs: { state: { name: { any_: ['Pending'] } } } })).toEqual(ids(s.a2));
      expect(
        await both({ task_runs: { state: { operator: 'or_', type: { any_: ['COMPLETED'] }, name: { any_: ['Pending'] } } } }),
      ).toEqual(ids(s.a1, s.a2));
      expect(await both({ task_runs: { start_time: { is_null_: false } } })).toEqual(ids(s.b1));
      expect(await both({ task_runs: { expected_start_time: { after_: '2029-01-01T00:00:00Z' } } })).toEqual(ids(s.free));
      expect(await both({ task_runs: { subflow_runs: { exists_: true } } })).toEqual(ids(s.a1));
      expect(await both({ task_runs: { subflow_runs: { exists_: false } } })).toEqual(ids(s.a2, s.b1, s.free));
      expect(await both({ task_runs: { end_time: { is_null_: true } } })).toEqual(ids(s.a1, s.a2, s.b1, s.free));
      expect(await both({ task_runs: { end_time: { is_null_: false } } })).toEqual([]);
    });

    test('task_runs.flow_run_id: is_null_ defaults to false, so {} drops task runs without a flow run', async () => {
      const s = await seed();
      expect(await both({ task_runs: {} })).toEqual(ids(s.a1, s.a2, s.b1, s.free));
      expect(await both({ task_runs: { flow_run_id: {} } })).toEqual(ids(s.a1, s.a2, s.b1));
      expect(await both({ task_runs: { flow_run_id: { is_null_: true } } })).toEqual(ids(s.free));
      expect(await both({ task_runs: { flow_run_id: { is_null_: true, any_: [s.ra.id] } } })).toEqual(ids(s.free));
      expect(await both({ task_runs: { flow_run_id: { any_: [s.rb.id] } } })).toEqual(ids(s.b1));
      expect(await both({ task_runs: { flow_run_id: { is_null_: null } } })).toEqual(ids(s.a1, s.a2, s.b1, s.free));
      expect(await both({ task_runs: { flow_run_id: { is_null_: null, any_: [s.ra.id] } } })).toEqual(ids(s.a1, s.a2));
    });

    test('flow_runs: the task\'s flow run must exist and match ({} drops task runs without one)', async () => {
      const s = await seed();
      expect(await both({ flow_runs: {} })).toEqual(ids(s.a1, s.a2, s.b1));
      expect(await both({ flow_runs: { id: { any_: [s.ra.id] } } })).toEqual(ids(s.a1, s.a2));
      expect(await both({ flow_runs: { id: { any_: [MISSING_ID] } } })).toEqual([]);
      expect(await both({ flow_runs: { tags: { all_: ['nightly'] } } })).toEqual(ids(s.a1, s.a2));
      expect(await both({ flow_runs: { state: { type: { any_: ['RUNNING'] } } } })).toEqual(ids(s.b1));
    });

    test('flows and deployments are reached through the task\'s flow run', async () => {
      const s = await seed();
      expect(await both({ flows: { name: { any_: ['ml'] } } })).toEqual(ids(s.b1));
      expect(await both({ flows: {} })).toEqual(ids(s.a1, s.a2, s.b1));
      expect(await both({ deployments: {} })).toEqual(ids(s.a1, s.a2));
      expect(await both({ deployments: { id: { any_: [s.dep.id] } } })).toEqual(ids(s.a1, s.a2));
      expect(await both({ deployments: { name: { any_: ['nope'] } } })).toEqual([]);
    });

    test('all parts are ANDed', async () => {
      const s = await seed();
      expect(await both({ task_runs: { tags: { all_: ['x'] } }, flows: { name: { any_: ['etl'] } } })).toEqual(ids(s.a1));
      expect(await both({ task_runs: { tags: { all_: ['x'] } }, deployments: {} })).toEqual(ids(s.a1));
      expect(await both({ flows: { name: { any_: ['ml'] } }, deployments: {} })).toEqual([]);
      expect(await both({ flows: null, flow_runs: null, task_runs: null, deployments: null })).toEqual(
        ids(s.a1, s.a2, s.b1, s.free),
      );
    });

    test('deleting the flow run removes its task runs from every result', async () => {
      const s = await seed();
      expect((await h.call('DELETE', `/api/flow_runs/${s.ra.id}`)).status).toBe(204);
      expect(await both({})).toEqual(ids(s.b1, s.free));
    });

    test('work_pools is not a key of the task-run filter body: ignored like any unknown top-level key', async () => {
      const s = await seed();
      expect(await both({ work_pools: {}, colour: 'teal' })).toEqual(ids(s.a1, s.a2, s.b1, s.free));
    });

    test('invalid filter content → 422', async () => {
      expect(
        validation(await h.call('POST', '/api/task_runs/filter', { task_runs: { state: { name: { not_any_: ['x'] } } } }))[0],
      ).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'task_runs', 'state', 'name', 'not_any_'] });
      expect(validation(await h.call('POST', '/api/task_runs/count', { task_runs: { colour: 1 } }))[0]).toMatchObject({
        type: 'extra_forbidden',
        loc: ['body', 'task_runs', 'colour'],
      });
    });
  });
});
